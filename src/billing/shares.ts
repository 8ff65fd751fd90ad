/**
 * Whose minutes a date of service's units come from: each discipline's services apart (DOMAIN §A, "each discipline on
 * its own"), a co-treated service's minutes divided between its disciplines, and, within a discipline, the units
 * billed with and without CQ/CO (DOMAIN §B, modifiers.ts).
 */
import { splitAssistantUnits } from './modifiers.js';
import type { PerformerFact, ServiceFact } from './session.js';
import { isTimedCode, unitsFor } from './units.js';
import type { AssistantModifier, CoTreatmentBilling, Discipline } from './types.js';

export interface DisciplineGroup {
  /** null: no performer of these services has a known discipline (the claim is held; lines.ts). */
  readonly discipline: Discipline | null;
  /** The services, or the discipline's part of a co-treated one (its minutes and its performers only). */
  readonly services: readonly ServiceFact[];
}

export interface DisciplineShare {
  /** null when no performer of the code has a known discipline. */
  readonly discipline: Discipline | null;
  readonly units: number;
  /** Therapist-furnished and assistant-independent minutes of this discipline (for CQ/CO). */
  readonly therapistMinutes: number;
  readonly assistantMinutes: number;
  /** The performers of this discipline (or all, when the discipline is unknown). */
  readonly performers: readonly PerformerFact[];
}

export interface UnitPart {
  readonly assistantModifier: AssistantModifier | null;
  readonly units: number;
}

const UNIT_MINUTES = 15;

/**
 * A date's services by discipline, in the order the disciplines first appear. PT, OT and SLP minutes never pool
 * (physicaltherapy.com, Weissberg: "total the minutes on a single date of service for a single discipline"; DOMAIN
 * §A). A service whose performers have one known discipline is that discipline's; one with two or more is
 * co-treatment, and its minutes are divided (coTreatmentParts); one with none goes to the `null` group.
 */
export function groupByDiscipline(services: readonly ServiceFact[], billing: CoTreatmentBilling): DisciplineGroup[] {
  const groups = new Map<Discipline | null, ServiceFact[]>();
  const add = (discipline: Discipline | null, service: ServiceFact) => {
    const list = groups.get(discipline);
    if (list) list.push(service);
    else groups.set(discipline, [service]);
  };
  for (const service of services) {
    const disciplines = disciplinesOf(service);
    if (disciplines.length <= 1) add(disciplines[0] ?? null, service);
    else for (const part of coTreatmentParts(service, disciplines, billing)) add(part.discipline, part.service);
  }
  return [...groups].map(([discipline, list]) => ({ discipline, services: list }));
}

function disciplinesOf(service: ServiceFact): Discipline[] {
  const found: Discipline[] = [];
  for (const p of service.performers) if (p.discipline && !found.includes(p.discipline)) found.push(p.discipline);
  return found;
}

/**
 * Co-treatment (two disciplines with the patient at once; DOMAIN §A, seed): the service's units are counted once,
 * from its minutes, and never exceed what those minutes allow (PT + OT together 60 min -> 4 units in all). 'single':
 * one discipline (the one that furnished the most minutes, the first on a tie) takes every minute. 'split': the units
 * are shared in proportion to each discipline's minutes (largest remainder), and each discipline takes 15 minutes per
 * unit of its share, the one with the largest share also the odd minutes (between -7 and +7, so its share of units
 * stands); these minutes then pool with the discipline's other minutes of the date. An untimed code, or minutes that
 * earn no unit, go whole to one discipline: one service is one untimed unit, and 7 minutes are not split into two.
 */
export function coTreatmentParts(service: ServiceFact, disciplines: readonly Discipline[], billing: CoTreatmentBilling): { discipline: Discipline; service: ServiceFact }[] {
  const minutes = service.minutes ?? 0;
  const weights = disciplines.map((d) => furnishedMinutes(service, d));
  const units = unitsFor(minutes);
  const part = (i: number, own: number) => {
    const discipline = disciplines[i]!;
    const performers = service.performers.filter((p) => p.discipline === discipline || p.discipline === null);
    return { discipline, service: { ...service, minutes: own, performers } };
  };
  if (billing === 'single' || !isTimedCode(service.code) || units === 0) return [part(mostMinutes(weights), minutes)];
  const shares = proportionalShares(weights, units);
  const largest = mostMinutes(shares);
  return shares.flatMap((share, i) => (share === 0 ? [] : [part(i, share * UNIT_MINUTES + (i === largest ? minutes - units * UNIT_MINUTES : 0))]));
}

/** The index of the largest value, the first on a tie. */
function mostMinutes(values: readonly number[]): number {
  return values.reduce((best, v, i) => (v > values[best]! ? i : best), 0);
}

/** Minutes a performer furnished: the performer-minutes extension, else all the procedure's minutes (guide §3). */
function minutesOf(performer: PerformerFact, service: ServiceFact): number {
  const all = service.minutes ?? 0;
  return Math.min(performer.documentedMinutes ?? all, all);
}

/** The most minutes any performer of the discipline furnished on the service. */
function furnishedMinutes(service: ServiceFact, discipline: Discipline): number {
  return service.performers.filter((p) => p.discipline === discipline).reduce((max, p) => Math.max(max, minutesOf(p, service)), 0);
}

/**
 * Per discipline, the minutes of the code's services: therapists' time (including time shared with an assistant,
 * which is the therapist's service) and the assistants' independent time. An assistant without performer-minutes
 * furnished all the procedure's minutes (guide §3): that reading applies CQ/CO whenever the record cannot tell, the
 * same choice as modifiers.ts (a missing CQ/CO is an overpayment, an extra one is recoverable).
 */
function disciplineMinutes(services: readonly ServiceFact[], discipline: Discipline | null): { therapist: number; assistant: number } {
  let therapist = 0;
  let assistant = 0;
  for (const service of services) {
    const mine = service.performers.filter((p) => p.discipline === discipline);
    const all = service.minutes ?? 0;
    if (mine.length === 0) continue;
    const independent = Math.min(all, mine.filter((p) => p.assistant).reduce((sum, p) => sum + minutesOf(p, service), 0));
    assistant += independent;
    // The minutes the assistant did not furnish alone are the supervising therapist's service.
    therapist += all - independent;
  }
  return { therapist, assistant };
}

/** One discipline's units of a code on a date, with the minutes CQ/CO is decided on and who furnished them. */
export function disciplineShare(services: readonly ServiceFact[], discipline: Discipline | null, units: number): DisciplineShare {
  const minutes = disciplineMinutes(services, discipline);
  return {
    discipline,
    units,
    therapistMinutes: minutes.therapist,
    assistantMinutes: minutes.assistant,
    performers: services.flatMap((s) => (discipline === null ? s.performers : s.performers.filter((p) => p.discipline === discipline || p.discipline === null))),
  };
}

function singleShare(weights: readonly number[], units: number): number[] {
  const best = mostMinutes(weights);
  return weights.map((_, i) => (i === best ? units : 0));
}

function proportionalShares(weights: readonly number[], units: number): number[] {
  const total = weights.reduce((a, b) => a + b, 0);
  if (total === 0) return singleShare(weights, units);
  const shares = weights.map((w) => Math.floor((units * w) / total));
  const byRemainder = weights.map((w, i) => ({ i, rest: (units * w) % total })).sort((a, b) => b.rest - a.rest || a.i - b.i);
  let left = units - shares.reduce((a, b) => a + b, 0);
  for (const { i } of byRemainder) {
    if (left-- <= 0) break;
    shares[i]! += 1;
  }
  return shares;
}

/** Units of one discipline share billed without and with CQ/CO (modifiers.ts splitAssistantUnits), non-empty parts. */
export function splitByAssistant(code: string, share: DisciplineShare, assistantModifiers: boolean): UnitPart[] {
  if (!assistantModifiers || share.discipline === null) return [{ assistantModifier: null, units: share.units }];
  const split = splitAssistantUnits({
    discipline: share.discipline,
    code,
    units: share.units,
    therapistMinutes: share.therapistMinutes,
    assistantMinutes: share.assistantMinutes,
  });
  const parts: UnitPart[] = [
    { assistantModifier: null, units: split.unitsWithoutModifier },
    { assistantModifier: split.modifier, units: split.unitsWithModifier },
  ];
  return parts.filter((p) => p.units > 0);
}
