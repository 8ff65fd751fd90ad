/**
 * Outcome measures from the rows of data.ts (pure: no database). One outcome per patient, episode of care and measure:
 * its measurements in time order (inside `period` when given), the first the baseline and the last the latest; the
 * change latest - baseline; the improvement (the change, or its opposite where lower is better, e.g. Timed Up and
 * Go); whether the improvement reaches the measure's MCID (mcid.json; null when the measure has no sourced MCID or
 * only one measurement); and between the baseline's and the latest's dates, both included, the visits (finished
 * sessions of the patient, of the episode when there is one) and the units billed (ChargeItem quantities, planned,
 * billable or billed, of those dates; of the episode's sessions when there is one). Dates are compared as written
 * (the date of service as the clinic recorded it, bots/billing/README.md).
 */
import type { CellValue } from '../views/types.js';
import { inUnit, type MeasureInfo } from './mcid.js';
import type { OutcomeData } from './data.js';

type Row = Record<string, CellValue>;

export interface OutcomeFilters {
  clinic?: string;
  therapist?: string;
  payer?: string;
  diagnosis?: string;
  /** Epoch-millisecond bounds, inclusive: a measurement counts when its time lies in [from, to]. */
  from?: number;
  to?: number;
}

export interface Point {
  observation: string;
  effective: string;
  time: number;
  value: number;
}

export interface Outcome {
  patient: string;
  episode: string | null;
  measure: string;
  name: string;
  unit: string;
  better: 'higher' | 'lower';
  points: Point[];
  baseline: Point;
  latest: Point;
  change: number | null;
  improvement: number | null;
  mcid: MeasureInfo['mcid'];
  reachesMcid: boolean | null;
  visits: number;
  units: number;
}

export interface OutcomeReport {
  outcomes: Outcome[];
  /** Measurements left out, and why (a unit that does not convert ...). */
  excluded: Array<{ observation: string; reason: string }>;
}

const BILLED = new Set(['planned', 'billable', 'billed']);
/** Tenths of a micro-unit: differences of decimals without binary noise (0.82 - 0.62 is 0.2, not 0.19999999999999996). */
const round = (n: number): number => Math.round(n * 1e7) / 1e7;
const str = (v: CellValue | undefined): string | null => (typeof v === 'string' ? v : null);
const day = (v: CellValue | undefined): string | null => (typeof v === 'string' ? v.slice(0, 10) : null);
const list = (v: CellValue | undefined): string[] => (Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : []);

function measureOf(row: Row, measures: Map<string, MeasureInfo>, byCode: Map<string, MeasureInfo>): MeasureInfo | { id: string; name: string; unit: string | null } {
  const named = str(row.measure);
  if (named && measures.has(named)) return measures.get(named) as MeasureInfo;
  const code = `${str(row.code_system) ?? ''}|${str(row.code) ?? ''}`;
  const known = byCode.get(code);
  if (known) return known;
  return { id: named ?? code, name: str(row.code_text) ?? named ?? code, unit: str(row.unit) };
}

export function computeOutcomes(data: OutcomeData, measures: Map<string, MeasureInfo>, filters: OutcomeFilters): OutcomeReport {
  const byCode = new Map([...measures.values()].flatMap((m) => m.codes.map((c) => [c, m] as const)));
  const sessions = new Map(data.sessions.map((s) => [str(s.id) as string, s]));
  // By patient, so that a cohort of many patients is not a scan of every row per outcome.
  const byPatient = (rows: Row[]): Map<string, Row[]> => {
    const map = new Map<string, Row[]>();
    for (const r of rows) {
      const p = str(r.patient_id) ?? '';
      const rows = map.get(p);
      if (rows) rows.push(r);
      else map.set(p, [r]);
    }
    return map;
  };
  const sessionsOf = byPatient(data.sessions);
  const chargesOf = byPatient(data.charges);
  const index: Index = { coveragesOf: byPatient(data.coverages), conditions: new Map(data.conditions.map((c) => [str(c.id), list(c.codes)])) };
  const excluded: OutcomeReport['excluded'] = [];
  const groups = new Map<string, Group>();
  for (const row of data.observations) {
    const id = `Observation/${str(row.id)}`;
    const patient = str(row.patient_id);
    const effective = str(row.effective);
    const value = typeof row.value === 'number' ? row.value : null;
    if (!patient || !effective || value === null) continue;
    const time = Date.parse(effective);
    if (Number.isNaN(time) || (filters.from !== undefined && time < filters.from) || (filters.to !== undefined && time > filters.to)) continue;
    const info = measureOf(row, measures, byCode);
    const converted = info.unit === null ? value : inUnit(value, str(row.unit), info.unit);
    if (converted === undefined) {
      excluded.push({ observation: id, reason: `${info.name} in ${str(row.unit)} cannot be compared with ${info.unit}` });
      continue;
    }
    const encounter = str(row.encounter_id);
    const episode = encounter ? str(sessions.get(encounter)?.episode_id) : null;
    const key = `${patient}|${episode ?? ''}|${info.id}`;
    const group = groups.get(key) ?? { patient, episode, info, points: [], performers: new Set<string>() };
    group.points.push({ observation: id, effective, time, value: converted });
    const performer = str(row.performer_id);
    if (performer) group.performers.add(performer);
    groups.set(key, group);
  }
  const outcomes: Outcome[] = [];
  for (const g of groups.values()) {
    g.points.sort((a, b) => a.time - b.time || (a.observation < b.observation ? -1 : 1));
    const episodeSessions = (sessionsOf.get(g.patient) ?? []).filter((s) => g.episode === null || str(s.episode_id) === g.episode);
    if (!passes(g, episodeSessions, data, index, filters)) continue;
    const baseline = g.points[0];
    const latest = g.points[g.points.length - 1];
    const full = 'better' in g.info ? g.info : undefined;
    const change = g.points.length > 1 ? round(latest.value - baseline.value) : null;
    const improvement = change === null ? null : full?.better === 'lower' ? round(-change) : change;
    const mcid = full?.mcid ?? null;
    const [first, last] = [baseline.effective.slice(0, 10), latest.effective.slice(0, 10)];
    const inRange = (d: string | null): boolean => d !== null && d >= first && d <= last;
    const visits = episodeSessions.filter((s) => str(s.status) === 'finished' && inRange(day(s.start))).length;
    const episodeIds = new Set(episodeSessions.map((s) => str(s.id)));
    const units = (chargesOf.get(g.patient) ?? [])
      .filter((c) => BILLED.has(str(c.status) ?? '') && inRange(day(c.service_date)))
      .filter((c) => g.episode === null || episodeIds.has(str(c.encounter_id)))
      .reduce((n, c) => n + (typeof c.units === 'number' ? c.units : 0), 0);
    outcomes.push({
      patient: `Patient/${g.patient}`,
      episode: g.episode ? `EpisodeOfCare/${g.episode}` : null,
      measure: g.info.id,
      name: g.info.name,
      unit: g.info.unit ?? '',
      better: full?.better ?? 'higher',
      points: g.points,
      baseline,
      latest,
      change,
      improvement,
      mcid,
      reachesMcid: improvement === null || !mcid ? null : improvement >= mcid.value,
      visits,
      units,
    });
  }
  outcomes.sort((a, b) => (a.patient < b.patient ? -1 : a.patient > b.patient ? 1 : 0) || (a.episode ?? '').localeCompare(b.episode ?? '') || a.measure.localeCompare(b.measure));
  return { outcomes, excluded };
}

/** The filters: clinic, therapist and diagnosis by the episode's sessions; payer by the patient's coverages. */
interface Group {
  patient: string;
  episode: string | null;
  info: MeasureInfo | { id: string; name: string; unit: string | null };
  points: Point[];
  /** Who measured (Observation.performer). */
  performers: Set<string>;
}

interface Index {
  coveragesOf: Map<string, Row[]>;
  conditions: Map<string | null, string[]>;
}

function passes(g: Group, sessions: Row[], data: OutcomeData, index: Index, f: OutcomeFilters): boolean {
  if (f.clinic && !sessions.some((s) => str(s.organization_id) === f.clinic)) return false;
  if (f.therapist) {
    const roles = new Set(data.roles.filter((r) => str(r.practitioner_id) === f.therapist).map((r) => str(r.id)));
    const matches = (id: string) => id === f.therapist || roles.has(id);
    const observed = [...g.performers].some(matches);
    if (!observed && !sessions.some((s) => list(s.performers).some(matches))) return false;
  }
  if (f.diagnosis) {
    const wanted = f.diagnosis;
    const codes = sessions.flatMap((s) => list(s.conditions)).flatMap((id) => index.conditions.get(id) ?? []);
    if (!codes.some((c) => c === wanted || c.startsWith(wanted))) return false;
  }
  if (f.payer) {
    const first = g.points[0].effective.slice(0, 10);
    const last = g.points[g.points.length - 1].effective.slice(0, 10);
    const covered = (index.coveragesOf.get(g.patient) ?? []).some(
      (c) =>
        str(c.status) !== 'entered-in-error' && list(c.payors).includes(f.payer as string) &&
        (day(c.start) ?? '0000') <= last && (day(c.end) ?? '9999') >= first,
    );
    if (!covered) return false;
  }
  return true;
}
