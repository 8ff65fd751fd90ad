/**
 * Claim-line modifiers for outpatient therapy (DOMAIN-97116 §B): discipline (GP/GO/GN), assistant (CQ/CO), NCCI
 * distinct-service (59/XE/XS/XP/XU) and KX. Pure functions, no I/O; the NCCI sample pairs ship as data.
 */
import ptpData from './data/ptp-pairs.json' with { type: 'json' };
import { isTimedCode } from './units.js';
import type {
  AssistantLineInput,
  AssistantModifier,
  AssistantUnitSplit,
  Discipline,
  DisciplineModifier,
  DistinctModifier,
  KxLineInput,
  KxLineResult,
  KxPool,
  LineModifierInput,
  PriorAllowed,
  PtpFinding,
  PtpLine,
  PtpLineModifier,
  PtpPair,
  PtpResult,
} from './types.js';

/** Pub 100-04 ch. 5 §20.1: every line under a therapy plan of care carries its discipline's modifier. */
export const DISCIPLINE_MODIFIERS = { PT: 'GP', OT: 'GO', SLP: 'GN' } as const satisfies Record<Discipline, DisciplineModifier>;

/** Pub 100-04 ch. 5 §20.1: CQ for a PTA, CO for an OTA. Medicare recognises no SLP assistant modifier. */
export const ASSISTANT_MODIFIERS = { PT: 'CQ', OT: 'CO', SLP: null } as const satisfies Record<Discipline, AssistantModifier | null>;

/** De minimis standard (CY 2020 PFS final rule, 84 FR 62702-62707): "in part" means MORE than 10% of the service. */
const DE_MINIMIS_SHARE = 0.1;
const UNIT_MINUTES = 15;
const THRESHOLD_MINUTES = 8;

export function disciplineModifier(discipline: Discipline): DisciplineModifier {
  return DISCIPLINE_MODIFIERS[discipline];
}

/**
 * CQ/CO for one unit (or one untimed service): the assistant's independent minutes must exceed 10% of the unit's
 * minutes (15 for a timed unit, i.e. more than 1.5 minutes; the service's total minutes for an untimed code).
 * Exactly 10% or less is de minimis: no modifier. Source: cms.gov "Billing Examples Using CQ/CO Modifiers for Services
 * Furnished In Whole or In Part by PTAs and OTAs"; CY 2020 PFS final rule (84 FR 62702-62707).
 */
export function assistantModifier(discipline: Discipline, assistantMinutes: number, unitMinutes = UNIT_MINUTES): AssistantModifier | null {
  const modifier = ASSISTANT_MODIFIERS[discipline];
  return modifier !== null && assistantMinutes > unitMinutes * DE_MINIMIS_SHARE ? modifier : null;
}

/**
 * Splits one line's units into units billed with CQ/CO and units billed without, per unit, following the method of
 * the cms.gov CQ/CO billing examples (CY 2022 PFS final rule, 86 FR 64996):
 * 1. Full 15-minute blocks go to whoever furnished them: the assistant's floor(minutes / 15) units with the modifier
 *    (counted first, so that a shortfall of units never hides assistant time), then the therapist's without.
 * 2. Each unit left is made of leftover minutes (each under 15). It is billed without the modifier when the
 *    assistant's leftover is de minimis (<= 10% of 15), or when the therapist alone reached the 8-minute threshold
 *    for it AND furnished more of it than the assistant; otherwise with the modifier. The party whose leftover
 *    funded the unit is then used up. Two leftover units (both 9-14 minutes) thus give one unit each, as CMS says.
 *    Where secondary sources differ (some say "the therapist's >= 8 minutes suffice", others "whoever furnished
 *    more"), this takes the reading that applies CQ/CO in every disputed case: under-billing by 15% is recoverable,
 *    a missing CQ/CO is an overpayment.
 * Minutes the therapist spent together with the assistant count as the therapist's (concurrent time is the
 * therapist's service). Untimed codes: the modifier applies to the whole service when the assistant's independent
 * minutes exceed 10% of the service's total minutes.
 */
export function splitAssistantUnits(line: AssistantLineInput): AssistantUnitSplit {
  const { discipline, units, therapistMinutes: therapist, assistantMinutes: assistant } = line;
  for (const [what, value] of [['units', units], ['therapistMinutes', therapist], ['assistantMinutes', assistant]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new RangeError(`${what} must be a whole number >= 0, got ${value}`);
  }
  const modifier = ASSISTANT_MODIFIERS[discipline];
  if (modifier === null || units === 0 || assistant === 0) return { modifier: null, unitsWithModifier: 0, unitsWithoutModifier: units };
  if (!isTimedCode(line.code)) {
    const applies = assistantModifier(discipline, assistant, therapist + assistant) !== null;
    return applies ? { modifier, unitsWithModifier: units, unitsWithoutModifier: 0 } : { modifier: null, unitsWithModifier: 0, unitsWithoutModifier: units };
  }
  let withModifier = Math.min(Math.floor(assistant / UNIT_MINUTES), units);
  let withoutModifier = Math.min(Math.floor(therapist / UNIT_MINUTES), units - withModifier);
  let assistantLeft = assistant % UNIT_MINUTES;
  let therapistLeft = therapist % UNIT_MINUTES;
  for (let unit = withModifier + withoutModifier; unit < units; unit++) {
    const deMinimis = assistantModifier(discipline, assistantLeft) === null;
    if (deMinimis || (therapistLeft >= THRESHOLD_MINUTES && therapistLeft > assistantLeft)) {
      withoutModifier += 1;
      therapistLeft = 0;
    } else {
      withModifier += 1;
      assistantLeft = 0;
    }
  }
  return { modifier: withModifier > 0 ? modifier : null, unitsWithModifier: withModifier, unitsWithoutModifier: withoutModifier };
}

/**
 * KX threshold per calendar year, in dollars, one amount for each pool (PT+SLP combined, OT separate; SSA §1833(g),
 * kept by BBA 2018 §50202). 2024: Noridian / CY 2024 PFS final rule; 2025 and 2026: secondary sources (DOMAIN §B).
 */
export const KX_THRESHOLDS = { 2024: 2330, 2025: 2410, 2026: 2480 } as const satisfies Record<number, number>;

/** Targeted medical review threshold per pool (BBA 2018 §50202): informational, adds no modifier. */
export const TARGETED_REVIEW_THRESHOLD = 3000;

export function kxPool(discipline: Discipline): KxPool {
  return discipline === 'OT' ? 'OT' : 'PT+SLP';
}

/** The discipline's pool threshold for a year; a year without a published amount is refused, never guessed. */
export function kxThreshold(year: number, discipline: Discipline): number {
  const amount = (KX_THRESHOLDS as Record<number, number | undefined>)[year];
  if (amount === undefined) throw new RangeError(`no KX threshold known for ${year} (${kxPool(discipline)} pool)`);
  return amount;
}

/** Dollars to whole cents, so that sums compare exactly at the threshold. */
function toCents(dollars: number, what: string): number {
  if (!Number.isFinite(dollars) || dollars < 0) throw new RangeError(`${what} must be an amount >= 0, got ${dollars}`);
  return Math.round(dollars * 100);
}

/**
 * True when this line takes the pool's allowed amount for the year above the threshold (the crossing line), or the
 * pool was already above it. Exactly at the threshold is not above it. `priorAllowedThisYear` is the pool's amount
 * (PT and SLP summed for PT or SLP lines; OT alone for OT lines). Pub 100-04 ch. 5 §10.3; BBA 2018 §50202.
 */
export function needsKx(priorAllowedThisYear: number, lineAllowed: number, year: number, discipline: Discipline): boolean {
  const after = toCents(priorAllowedThisYear, 'priorAllowedThisYear') + toCents(lineAllowed, 'lineAllowed');
  return after > kxThreshold(year, discipline) * 100;
}

/**
 * Marks a new claim's lines, in claim order: per pool, the line that crosses the threshold and every later line of
 * that pool get KX; lines of the other pool are counted apart. Lines above the threshold without KX are denied.
 */
export function markKxLines(prior: PriorAllowed, lines: readonly KxLineInput[], year: number): KxLineResult[] {
  const totals: Record<KxPool, number> = { 'PT+SLP': toCents(prior.ptSlp, 'prior.ptSlp'), OT: toCents(prior.ot, 'prior.ot') };
  return lines.map((line, i) => {
    const pool = kxPool(line.discipline);
    totals[pool] += toCents(line.allowed, `lines[${i}].allowed`);
    const cents = totals[pool];
    return {
      pool,
      cumulativeAllowed: cents / 100,
      kx: cents > kxThreshold(year, line.discipline) * 100,
      targetedReview: cents > TARGETED_REVIEW_THRESHOLD * 100,
    };
  });
}

function parsePtpPairs(pairs: readonly { column1: string; column2: string; modifierIndicator: string; source: string }[]): PtpPair[] {
  return pairs.map((p) => {
    if (p.modifierIndicator !== '0' && p.modifierIndicator !== '1' && p.modifierIndicator !== '9') {
      throw new RangeError(`ptp-pairs.json: ${p.column1}/${p.column2} has modifierIndicator ${p.modifierIndicator}`);
    }
    return { ...p, modifierIndicator: p.modifierIndicator };
  });
}

/** SAMPLE NCCI PTP pairs (src/billing/data/ptp-pairs.json); replace with the quarterly CMS file before billing. */
export const PTP_PAIRS: readonly PtpPair[] = parsePtpPairs(ptpData.pairs);

export interface PtpOptions {
  /** The modifier to add: 59 by default, or the more specific X modifier the caller prefers (XU for therapy blocks). */
  readonly prefer?: DistinctModifier;
  /** The PTP edits in force; defaults to the sample PTP_PAIRS. */
  readonly pairs?: readonly PtpPair[];
}

/**
 * NCCI PTP edits within one session (NCCI Policy Manual ch. I; modifier indicator in the PTP file). When both codes of
 * an active pair are billed, the column-2 line gets ONE distinct-service modifier (59, or the preferred X modifier,
 * never both) only when `distinctDocumented(column2, pair)` says the session documents distinct services (separate
 * 15-minute blocks). Otherwise, or when the indicator is 0, a finding says the column-2 line is not separately
 * payable. A column-2 line in several pairs gets the modifier only if every pair is documented: the modifier bypasses
 * all edits on the line, so one undocumented pair must block it.
 */
export function ptpModifiers(
  lines: readonly PtpLine[],
  distinctDocumented: (code: string, pair: PtpPair) => boolean,
  options: PtpOptions = {},
): PtpResult {
  const billed = lines.map((l, i) => ({ ...l, lineIndex: i })).filter((l) => l.units === undefined || l.units > 0);
  const documented = new Set<number>();
  const findings: PtpFinding[] = [];
  for (const pair of options.pairs ?? PTP_PAIRS) {
    if (pair.modifierIndicator === '9' || !billed.some((l) => l.code === pair.column1)) continue;
    for (const line of billed.filter((l) => l.code === pair.column2)) {
      if (pair.modifierIndicator === '1' && distinctDocumented(pair.column2, pair)) documented.add(line.lineIndex);
      else findings.push(ptpFinding(pair, line.lineIndex));
    }
  }
  const blocked = new Set(findings.map((f) => f.lineIndex));
  const modifier = options.prefer ?? '59';
  const modifiers: PtpLineModifier[] = [...documented]
    .filter((i) => !blocked.has(i))
    .sort((a, b) => a - b)
    .map((lineIndex) => ({ lineIndex, code: lines[lineIndex]!.code, modifier }));
  return { modifiers, findings };
}

function ptpFinding(pair: PtpPair, lineIndex: number): PtpFinding {
  const why =
    pair.modifierIndicator === '0'
      ? 'the edit allows no modifier'
      : 'the session does not document distinct services (separate 15-minute blocks) for a 59/XE/XS/XP/XU modifier';
  return {
    kind: 'ptp-not-separately-payable',
    lineIndex,
    column1: pair.column1,
    column2: pair.column2,
    message: `${pair.column2} is not separately payable with ${pair.column1} in the same session: ${why}.`,
    source: pair.source,
  };
}

export type LineModifier = DisciplineModifier | AssistantModifier | DistinctModifier | 'KX';

/**
 * A line's modifiers in Stride's fixed order: discipline (GP/GO/GN), assistant (CQ/CO), distinct service (59/X),
 * KX. At most four, which is what an 837P SV101 composite holds (SV101-3..6). CQ goes with GP and CO with GO only
 * (cms.gov CQ/CO billing examples); a mismatch is refused. One distinct modifier at most: never 59 and an X together.
 */
export function buildLineModifiers(input: LineModifierInput): LineModifier[] {
  const assistant = input.assistant ?? null;
  if (assistant !== null && ASSISTANT_MODIFIERS[input.discipline] !== assistant) {
    throw new RangeError(`${assistant} cannot go on a ${input.discipline} line`);
  }
  const modifiers: LineModifier[] = [disciplineModifier(input.discipline)];
  if (assistant !== null) modifiers.push(assistant);
  if (input.distinct) modifiers.push(input.distinct);
  if (input.kx) modifiers.push('KX');
  return modifiers;
}
