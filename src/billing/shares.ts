/**
 * How one code's units on one date of service are shared: between disciplines when therapists co-treat (DOMAIN §A),
 * then, within a discipline, between units billed with and without CQ/CO (DOMAIN §B, modifiers.ts).
 */
import { splitAssistantUnits } from './modifiers.js';
import type { PerformerFact, ServiceFact } from './session.js';
import type { AssistantModifier, CoTreatmentBilling, Discipline } from './types.js';

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

/** Minutes a performer furnished: the performer-minutes extension, else all the procedure's minutes (guide §3). */
function minutesOf(performer: PerformerFact, service: ServiceFact): number {
  const all = service.minutes ?? 0;
  return Math.min(performer.documentedMinutes ?? all, all);
}

/**
 * Per discipline, the minutes of the code's services: therapists' time (including time shared with an assistant,
 * which is the therapist's service) and the assistants' independent time. An assistant without performer-minutes
 * furnished all the procedure's minutes (guide §3): that reading applies CQ/CO whenever the record cannot tell, the
 * same choice as modifiers.ts (a missing CQ/CO is an overpayment, an extra one is recoverable).
 */
function disciplineMinutes(services: readonly ServiceFact[], discipline: Discipline | null): { therapist: number; assistant: number; furnished: number } {
  let therapist = 0;
  let assistant = 0;
  let furnished = 0;
  for (const service of services) {
    const mine = service.performers.filter((p) => p.discipline === discipline);
    const all = service.minutes ?? 0;
    if (mine.length === 0) continue;
    const independent = Math.min(all, mine.filter((p) => p.assistant).reduce((sum, p) => sum + minutesOf(p, service), 0));
    assistant += independent;
    furnished += mine.reduce((max, p) => Math.max(max, minutesOf(p, service)), 0);
    // The minutes the assistant did not furnish alone are the supervising therapist's service.
    therapist += all - independent;
  }
  return { therapist, assistant, furnished };
}

/**
 * Co-treatment (one procedure with performers of two disciplines, DOMAIN §A): the units are counted once (they were
 * computed from the procedure's minutes) and go to one discipline ('single': the one with the most minutes, the
 * first on a tie) or are split in proportion to each discipline's minutes ('split': largest remainder, ties to the
 * first), so the shares always add up to the code's units. The same code done apart by two disciplines is split.
 */
export function shareByDiscipline(services: readonly ServiceFact[], units: number, billing: CoTreatmentBilling): DisciplineShare[] {
  const disciplines: Discipline[] = [];
  for (const s of services) for (const p of s.performers) if (p.discipline && !disciplines.includes(p.discipline)) disciplines.push(p.discipline);
  if (disciplines.length === 0) {
    return [{ discipline: null, units, therapistMinutes: 0, assistantMinutes: 0, performers: services.flatMap((s) => s.performers) }];
  }
  const minutes = disciplines.map((d) => disciplineMinutes(services, d));
  const weights = minutes.map((m) => m.furnished);
  // Separate procedures of one code by different disciplines are not co-treatment: each keeps its minutes' share.
  const coTreated = services.some((s) => new Set(s.performers.map((p) => p.discipline).filter((d) => d !== null)).size > 1);
  const single = disciplines.length === 1 || (coTreated && billing === 'single');
  const unitsOf = single ? singleShare(weights, units) : proportionalShares(weights, units);
  return disciplines
    .map((discipline, i) => ({
      discipline,
      units: unitsOf[i]!,
      therapistMinutes: minutes[i]!.therapist,
      assistantMinutes: minutes[i]!.assistant,
      performers: services.flatMap((s) => s.performers.filter((p) => p.discipline === discipline || p.discipline === null)),
    }))
    .filter((share) => share.units > 0);
}

function singleShare(weights: readonly number[], units: number): number[] {
  const best = weights.reduce((bestIndex, w, i) => (w > weights[bestIndex]! ? i : bestIndex), 0);
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
