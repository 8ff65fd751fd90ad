/**
 * $outcomes as JSON (a Stride-defined shape, README "Outcome measures") and CSV (one line per outcome, RFC 4180).
 * The summary gives, per measure, how many outcomes there are, how many have a change, how many reach the MCID and
 * the mean and median change.
 */
import type { Outcome, OutcomeReport } from './compute.js';

export interface MeasureSummary {
  measure: string;
  name: string;
  unit: string;
  outcomes: number;
  withChange: number;
  reachingMcid: number | null;
  meanChange: number | null;
  medianChange: number | null;
  mcid: Outcome['mcid'];
}

const round = (n: number): number => Math.round(n * 1e7) / 1e7;

export function summarize(outcomes: readonly Outcome[]): MeasureSummary[] {
  const by = new Map<string, Outcome[]>();
  for (const o of outcomes) {
    const list = by.get(o.measure);
    if (list) list.push(o);
    else by.set(o.measure, [o]);
  }
  return [...by.entries()].sort(([a], [b]) => a.localeCompare(b)).map(([measure, list]) => {
    const changes = list.flatMap((o) => (o.change === null ? [] : [o.change])).sort((a, b) => a - b);
    const mid = changes.length >> 1;
    return {
      measure,
      name: list[0].name,
      unit: list[0].unit,
      outcomes: list.length,
      withChange: changes.length,
      reachingMcid: list[0].mcid ? list.filter((o) => o.reachesMcid === true).length : null,
      meanChange: changes.length ? round(changes.reduce((a, b) => a + b, 0) / changes.length) : null,
      medianChange: changes.length ? round(changes.length % 2 ? changes[mid] : (changes[mid - 1] + changes[mid]) / 2) : null,
      mcid: list[0].mcid,
    };
  });
}

const point = (p: Outcome['baseline']) => ({ date: p.effective, value: p.value, observation: p.observation });

export function toJson(report: OutcomeReport, filters: Record<string, string | string[]>, withPoints: boolean): Record<string, unknown> {
  return {
    generated: new Date().toISOString(),
    filters,
    summary: summarize(report.outcomes),
    outcomes: report.outcomes.map((o) => ({
      patient: o.patient,
      episode: o.episode,
      measure: o.measure,
      name: o.name,
      unit: o.unit,
      better: o.better,
      measurements: o.points.length,
      baseline: point(o.baseline),
      latest: point(o.latest),
      change: o.change,
      improvement: o.improvement,
      mcid: o.mcid,
      reachesMcid: o.reachesMcid,
      visits: o.visits,
      units: o.units,
      ...(withPoints ? { points: o.points.map(point) } : {}),
    })),
    excluded: report.excluded,
  };
}

export const CSV_COLUMNS = [
  'patient', 'episode', 'measure', 'unit', 'measurements', 'baseline_date', 'baseline_value', 'latest_date', 'latest_value',
  'change', 'improvement', 'mcid', 'reaches_mcid', 'visits', 'units',
] as const;

function field(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

export function toCsv(report: OutcomeReport): string {
  const lines = [CSV_COLUMNS.join(',')];
  for (const o of report.outcomes) {
    lines.push(
      [o.patient, o.episode, o.measure, o.unit, o.points.length, o.baseline.effective, o.baseline.value, o.latest.effective, o.latest.value, o.change, o.improvement, o.mcid?.value, o.reachesMcid, o.visits, o.units]
        .map(field)
        .join(','),
    );
  }
  return `${lines.join('\r\n')}\r\n`;
}
