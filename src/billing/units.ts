/**
 * Billing units for outpatient therapy: minutes in, units out. Pure functions, no I/O.
 *
 * Sources (DOMAIN-97116 §A): Medicare Claims Processing Manual, Pub 100-04 ch. 5 §20.2 (CMS 8-minute rule);
 * AMA/CPT midpoint rule ("8-minute rule vs the rule of 8s", help.emr.webpt.com; AAPC); seed article on 97116
 * (co-treatment, four-unit cap).
 */
import type {
  CoTreatmentInput,
  CoTreatmentResult,
  CoTreatmentShare,
  SessionCap,
  SessionCapResult,
  TimedService,
  UnitAllocation,
  UnitPolicy,
} from './types.js';

/**
 * CPT codes billed "each 15 minutes" (CPT descriptors of the physical medicine and rehabilitation section; CMS annual
 * therapy code list). 97124 is added to the list in the brief: its descriptor is "each 15 minutes" too. Left out on
 * purpose: 97129/97130 (first 15 minutes + each additional 15, not a plain 15-minute unit) and 97545/97546 (hours).
 */
export const TIMED_CODES = [
  '97032', '97033', '97034', '97035', '97036',
  '97110', '97112', '97113', '97116', '97124', '97140',
  '97530', '97533', '97535', '97537', '97542',
  '97750', '97755', '97760', '97761', '97763',
] as const;

/**
 * Service-based (untimed) therapy codes: one unit per session whatever the minutes (Pub 100-04 ch. 5 §20.2: untimed
 * codes are billed as 1 unit). Evaluations 97161-97163 (PT), 97164 (PT re-eval), 97165-97167 (OT), 97168 (OT
 * re-eval); SLP treatment 92507 and swallowing treatment 92526; group therapy 97150; supervised modalities
 * 97010-97028; unattended electrical stimulation G0283.
 */
export const UNTIMED_CODES = [
  '97161', '97162', '97163', '97164', '97165', '97166', '97167', '97168',
  '92507', '92526', '97150',
  '97010', '97012', '97014', '97016', '97018', '97022', '97024', '97026', '97028', 'G0283',
] as const;

const TIMED = new Set<string>(TIMED_CODES);
const UNTIMED = new Set<string>(UNTIMED_CODES);

/** The minutes of one timed unit, and the minutes needed to bill a unit (more than half of 15). */
const UNIT_MINUTES = 15;
const THRESHOLD_MINUTES = 8;

export function isTimedCode(code: string): boolean {
  return TIMED.has(code);
}

export function isUntimedCode(code: string): boolean {
  return UNTIMED.has(code);
}

/** Documented minutes are whole, non-negative minutes; anything else is a caller bug, not a billing case. */
function assertMinutes(minutes: number, what: string): void {
  if (!Number.isInteger(minutes) || minutes < 0) {
    throw new RangeError(`${what} must be a whole number of minutes >= 0, got ${minutes}`);
  }
}

/** 0-7 -> 0, 8-22 -> 1, 23-37 -> 2, ... : one unit at 8 minutes, one more for each further 15. */
export function unitsFor(minutes: number): number {
  return minutes < THRESHOLD_MINUTES ? 0 : Math.floor((minutes - THRESHOLD_MINUTES) / UNIT_MINUTES) + 1;
}

/** CMS total timed units for a date of service, from the total timed minutes (Pub 100-04 ch. 5 §20.2 table). */
export function cmsTotalUnits(totalTimedMinutes: number): number {
  assertMinutes(totalTimedMinutes, 'totalTimedMinutes');
  return unitsFor(totalTimedMinutes);
}

/** AMA/CPT midpoint rule for one code: a unit once more than half of 15 minutes (8) is reached, then each 15. */
export function midpointUnits(minutes: number): number {
  assertMinutes(minutes, 'minutes');
  return unitsFor(minutes);
}

/** One entry per code (first-seen order); a code given twice is one line with the minutes summed (§20.2). */
function mergeServices(services: readonly TimedService[]): TimedService[] {
  const minutesByCode = new Map<string, number>();
  for (const { code, minutes } of services) {
    assertMinutes(minutes, `minutes of ${code}`);
    minutesByCode.set(code, (minutesByCode.get(code) ?? 0) + minutes);
  }
  return [...minutesByCode].map(([code, minutes]) => ({ code, minutes }));
}

/**
 * CMS allocation of the day's timed units among timed codes (Pub 100-04 ch. 5 §20.2):
 * 1. total units from the total timed minutes (cmsTotalUnits);
 * 2. each code first gets its full 15-minute units, floor(minutes / 15) (>= 15 min -> >= 1 unit, >= 30 -> >= 2);
 * 3. the units left go one each to the codes with the most minutes left over, ties broken by more total minutes,
 *    then code order. This also covers "services each under 8 minutes that add up to >= 8: bill the one with the
 *    most minutes".
 * Step 2 never exceeds the total (sum of floors <= floor of the sum), and step 3 never gives a code more than one
 * extra unit: each leftover is under 15 minutes, so the leftover units are at most the codes with leftovers.
 */
export function allocateCmsUnits(services: readonly TimedService[]): UnitAllocation[] {
  const merged = mergeServices(services);
  const total = unitsFor(merged.reduce((sum, s) => sum + s.minutes, 0));
  const units = merged.map((s) => Math.floor(s.minutes / UNIT_MINUTES));
  const left = (i: number): number => merged[i]!.minutes - units[i]! * UNIT_MINUTES;
  const remaining = total - units.reduce((sum, u) => sum + u, 0);
  const byLeftover = merged
    .map((_, i) => i)
    .filter((i) => left(i) > 0)
    .sort((a, b) => left(b) - left(a) || merged[b]!.minutes - merged[a]!.minutes || compareCodes(merged[a]!, merged[b]!));
  for (const i of byLeftover.slice(0, remaining)) units[i]! += 1;
  return merged.map((s, i) => ({ code: s.code, minutes: s.minutes, units: units[i]! }));
}

function compareCodes(a: TimedService, b: TimedService): number {
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/** Midpoint allocation: each code on its own minutes; other codes never change a code's units. */
export function allocateMidpointUnits(services: readonly TimedService[]): UnitAllocation[] {
  return mergeServices(services).map((s) => ({ ...s, units: unitsFor(s.minutes) }));
}

/**
 * Units for every therapy code of one date of service under the payer's unit rule. Timed codes go through the rule;
 * untimed codes are 1 unit each whatever their minutes. A code in neither list is refused (RangeError): billing a
 * code whose unit basis is unknown would be a guess.
 */
export function computeUnits(services: readonly TimedService[], policy: UnitPolicy): UnitAllocation[] {
  const merged = mergeServices(services);
  const unknown = merged.filter((s) => !isTimedCode(s.code) && !isUntimedCode(s.code));
  if (unknown.length > 0) {
    throw new RangeError(`no unit rule for code(s) ${unknown.map((s) => s.code).join(', ')}: not a known timed or untimed therapy code`);
  }
  const timed = merged.filter((s) => isTimedCode(s.code));
  const allocate = policy.unitRule === 'cms-8-minute' ? allocateCmsUnits : allocateMidpointUnits;
  const timedUnits = new Map(allocate(timed).map((a) => [a.code, a.units]));
  return merged.map((s) => ({ ...s, units: timedUnits.get(s.code) ?? 1 }));
}

/**
 * Co-treatment: two therapists (e.g. PT and OT) with the patient at the same time. The minutes they overlap count
 * once, so the session's minutes are both therapists' minutes minus the overlap, and the session's units come from
 * those minutes (a single code, so the CMS and midpoint rules agree): PT + OT together for 60 min -> 4 units, not 8.
 * 'single': one therapist bills every unit (`billedBy`, else the one with the most minutes, the first on a tie).
 * 'split': units shared in proportion to each therapist's minutes (largest remainder, ties to more minutes, then the
 * first), so the shares always add up to the session's units. Source: seed ("both treating therapists will split the
 * billable time or only one therapist will bill"), DOMAIN §A.
 */
export function splitCoTreatment(input: CoTreatmentInput): CoTreatmentResult {
  const [a, b] = input.therapists;
  assertMinutes(a.minutes, `minutes of ${a.discipline}`);
  assertMinutes(b.minutes, `minutes of ${b.discipline}`);
  assertMinutes(input.overlapMinutes, 'overlapMinutes');
  if (input.overlapMinutes > Math.min(a.minutes, b.minutes)) {
    throw new RangeError(`overlapMinutes (${input.overlapMinutes}) exceeds a therapist's own minutes`);
  }
  const sessionMinutes = a.minutes + b.minutes - input.overlapMinutes;
  const totalUnits = unitsFor(sessionMinutes);
  const units = input.billing === 'single' ? singleBiller(input, totalUnits) : proportionalUnits(input, totalUnits);
  const shares: CoTreatmentShare[] = input.therapists.map((t, i) => ({ discipline: t.discipline, minutes: t.minutes, units: units[i]! }));
  return { code: input.code, sessionMinutes, totalUnits, shares };
}

function singleBiller(input: CoTreatmentInput, totalUnits: number): [number, number] {
  const [a, b] = input.therapists;
  let first: boolean;
  if (input.billedBy === undefined) {
    first = a.minutes >= b.minutes;
  } else if (input.billedBy === a.discipline || input.billedBy === b.discipline) {
    first = input.billedBy === a.discipline;
  } else {
    throw new RangeError(`billedBy ${input.billedBy} is neither co-treating therapist`);
  }
  return first ? [totalUnits, 0] : [0, totalUnits];
}

function proportionalUnits(input: CoTreatmentInput, totalUnits: number): [number, number] {
  const [a, b] = input.therapists;
  const all = a.minutes + b.minutes;
  if (all === 0) return [0, 0];
  const units: [number, number] = [Math.floor((totalUnits * a.minutes) / all), Math.floor((totalUnits * b.minutes) / all)];
  if (units[0] + units[1] < totalUnits) {
    // Two shares: at most one unit is left; exact integer remainders decide who gets it.
    const restA = (totalUnits * a.minutes) % all;
    const restB = (totalUnits * b.minutes) % all;
    const toA = restA > restB || (restA === restB && a.minutes >= b.minutes);
    units[toA ? 0 : 1] += 1;
  }
  return units;
}

/**
 * A payer's per-session unit cap (DOMAIN §A; seed: "Four units maximum of 97116 ... per treatment session ... but
 * more units may be allowed if additional units are clearly justified"). Units above the cap are NOT cut: without a
 * documented justification the claim is held for review with a reason; with one it goes through unchanged.
 */
export function applySessionCap(allocations: readonly UnitAllocation[], cap: SessionCap, hasJustification: boolean): SessionCapResult {
  const units = allocations.filter((a) => a.code === cap.code).reduce((sum, a) => sum + a.units, 0);
  if (units <= cap.maxUnits || hasJustification) {
    return { allocations, heldForReview: false, reason: null };
  }
  const reason =
    `${cap.code}: ${units} units in one session exceed the payer's limit of ${cap.maxUnits} and the session documents ` +
    `no justification for more; the claim is held for review (units are not reduced).`;
  return { allocations, heldForReview: true, reason };
}
