/**
 * The billable lines of a date of service (day.ts): each discipline's minutes apart (shares.ts), units by the payer
 * policy's rule (units.ts), co-treatment and CQ/CO shares, the per-session cap, NCCI PTP 59/X, fees and KX
 * (modifiers.ts). No FHIR output here: claim.ts turns lines into a Claim and ChargeItems. DOMAIN-97116 §A and §B.
 */
import type { Coding } from '@medplum/fhirtypes';
import { feeSystemUrl, findFee, fromCents, toCents, type FeeEntry, type FeeSchedule } from './fee-schedule.js';
import type { BillingFinding } from './findings.js';
import { PTP_PAIRS, buildLineModifiers, markKxLines, ptpModifiers, type LineModifier } from './modifiers.js';
import type { BillingPolicy } from './policy.js';
import type { BillingFacts } from './day.js';
import type { PerformerFact, ServiceFact } from './session.js';
import { disciplineShare, groupByDiscipline, splitByAssistant, type DisciplineGroup } from './shares.js';
import { applySessionCap, computeUnits, isTimedCode, isUntimedCode } from './units.js';
import type { AssistantModifier, Discipline, DistinctModifier, PriorAllowed, PtpPair, UnitAllocation } from './types.js';

/** An allowed amount of an earlier claim line of the patient (for the KX running total). */
export interface PriorAllowedLine {
  /** Date of service, YYYY-MM-DD. */
  readonly date: string;
  readonly discipline: Discipline;
  /** Allowed amount in dollars. */
  readonly allowed: number;
}

export interface BillingLine {
  /** Stable key of the line within its Claim: date, code, discipline, CQ/CO (ChargeItem identifier). */
  readonly key: string;
  readonly code: string;
  readonly coding: Coding;
  readonly date: string;
  readonly discipline: Discipline | null;
  readonly assistantModifier: AssistantModifier | null;
  readonly distinctModifier: DistinctModifier | null;
  readonly kx: boolean;
  readonly modifiers: readonly LineModifier[];
  readonly units: number;
  /** The discipline's minutes of the code on the date (all its visits), that the units were computed from. */
  readonly minutes: number;
  /** Fee per unit in cents, null when the code has no fee. */
  readonly unitPriceCents: number | null;
  readonly netCents: number | null;
  readonly services: readonly ServiceFact[];
  readonly performers: readonly PerformerFact[];
}

export interface LinesResult {
  readonly lines: readonly BillingLine[];
  /** Units per code per date, all disciplines, before CQ/CO shares (what the date's minutes allow). */
  readonly units: ReadonlyMap<string, number>;
  readonly findings: readonly BillingFinding[];
}

export interface LineOptions {
  readonly ptpPairs?: readonly PtpPair[];
}

const PUB_100_04 = 'Medicare Claims Processing Manual (Pub 100-04) ch. 5 §20.2';
/** CQ/CO services are paid at 85% of the fee schedule since 2022 (CY 2022 PFS final rule; cms.gov CQ/CO examples). */
const ASSISTANT_PAYMENT_SHARE = 0.85;

export function computeLines(facts: BillingFacts, policy: BillingPolicy, fees: FeeSchedule, prior: readonly PriorAllowedLine[], options: LineOptions = {}): LinesResult {
  const findings: BillingFinding[] = [];
  const drafts: LineDraft[] = [];
  const units = new Map<string, number>();
  for (const [date, all] of groupByDate(facts.services)) {
    const services = countable(all, findings);
    for (const group of groupByDiscipline(services, policy.coTreatment)) {
      const allocations = allocate(date, group, policy, findings);
      for (const a of allocations) units.set(`${date}|${a.code}`, (units.get(`${date}|${a.code}`) ?? 0) + a.units);
      checkCaps(date, group, allocations, policy, findings);
      checkVisits(date, group, allocations, policy, findings);
      if (group.discipline === null) for (const code of new Set(group.services.map((s) => s.code))) findings.push(noDiscipline(code, group.services.filter((s) => s.code === code)));
      for (const a of allocations.filter((x) => x.units > 0)) {
        const ofCode = group.services.filter((s) => s.code === a.code);
        const share = disciplineShare(ofCode, group.discipline, a.units);
        for (const part of splitByAssistant(a.code, share, policy.assistantModifiers)) {
          drafts.push({ code: a.code, coding: ofCode[0]!.coding, date, discipline: group.discipline, assistantModifier: part.assistantModifier, units: part.units, minutes: a.minutes, services: ofCode, performers: share.performers });
        }
      }
    }
  }
  // Lines in the order their first service was done (the CMS allocation and KX both read lines in claim order).
  const position = new Map(facts.services.map((s, i) => [s.ref, i]));
  const first = (d: LineDraft) => Math.min(...d.services.map((s) => position.get(s.ref) ?? Infinity));
  drafts.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0) || first(a) - first(b));
  const distinct = distinctModifiers(facts, drafts, policy, options.ptpPairs ?? PTP_PAIRS, findings);
  const priced = drafts.map((d) => ({ ...d, fee: findFee(fees, d.code) }));
  const kx = kxFlags(priced, policy, prior, findings);
  const lines = priced.map((d, i): BillingLine => {
    const distinctModifier = distinct.get(`${d.date}|${d.code}`) ?? null;
    const unitPriceCents = d.fee ? toCents(d.fee.charge) : null;
    return {
      key: `${d.date}|${d.code}|${d.discipline ?? '-'}|${d.assistantModifier ?? '-'}`,
      code: d.code,
      coding: d.fee ? { system: feeSystemUrl(d.fee), code: d.code, display: d.fee.display } : d.coding,
      date: d.date,
      discipline: d.discipline,
      assistantModifier: d.assistantModifier,
      distinctModifier,
      kx: kx[i]!,
      // Without a discipline there is no GP/GO/GN (the scrubber flags the line); the distinct modifier still applies.
      modifiers: d.discipline ? buildLineModifiers({ discipline: d.discipline, assistant: d.assistantModifier, distinct: distinctModifier, kx: kx[i] }) : distinctModifier ? [distinctModifier] : [],
      units: d.units,
      minutes: d.minutes,
      unitPriceCents,
      netCents: unitPriceCents === null ? null : unitPriceCents * d.units,
      services: d.services,
      performers: d.performers,
    };
  });
  return { lines, units, findings };
}

type LineDraft = Omit<BillingLine, 'distinctModifier' | 'kx' | 'modifiers' | 'unitPriceCents' | 'netCents' | 'key'>;

function groupByDate(services: readonly ServiceFact[]): Map<string, ServiceFact[]> {
  const byDate = new Map<string, ServiceFact[]>();
  for (const s of services) byDate.set(s.date, [...(byDate.get(s.date) ?? []), s]);
  return byDate;
}

/**
 * The services that can count: a code in neither list has no unit rule (refused, not guessed), and a timed service
 * whose minutes are missing, zero or negative is not dropped in silence: an error holds the claim and names the
 * service (issue 25 §3), because billing without it would under-bill and billing it would be a guess.
 */
function countable(services: readonly ServiceFact[], findings: BillingFinding[]): ServiceFact[] {
  return services.filter((s) => {
    if (!isTimedCode(s.code) && !isUntimedCode(s.code)) {
      findings.push(finding('billing-code-unknown', 'error', `${s.code} is neither a timed nor an untimed therapy code: Stride has no unit rule for it and does not guess one.`, 'Procedure.code', [s.ref], PUB_100_04));
      return false;
    }
    if (isTimedCode(s.code) && s.minutes === null) {
      const why = s.minutesProblem ?? 'its minutes are unknown';
      findings.push(finding('billing-minutes-unknown', 'error', `${s.code} (${s.ref}, ${s.date}) cannot be billed: ${why}. The claim is held until the minutes are recorded (timed-minutes extension, or performedPeriod start and end).`, 'Procedure.performedPeriod', [s.ref], 'Stride guide §3.1; MBPM ch. 15 §220.3.E'));
      return false;
    }
    return true;
  });
}

/** Units of one discipline's services of one date under the policy's rule (Pub 100-04 ch. 5 §20.2, or midpoint). */
function allocate(date: string, group: DisciplineGroup, policy: BillingPolicy, findings: BillingFinding[]): UnitAllocation[] {
  const allocations = computeUnits(group.services.map((s) => ({ code: s.code, minutes: s.minutes ?? 0 })), policy);
  for (const a of allocations.filter((x) => x.units === 0)) {
    const refs = group.services.filter((s) => s.code === a.code).map((s) => s.ref);
    findings.push(finding('billing-no-units', 'warning', `${a.code} (${disciplineName(group.discipline)}, ${date}): ${a.minutes} minutes earn no unit under the ${policy.unitRule} rule of policy ${policy.id}, counting the ${disciplineName(group.discipline)} minutes of the whole date of service; the service is not billed.`, 'Procedure.extension', refs, PUB_100_04));
  }
  return allocations;
}

/**
 * The per-session cap holds the claim for review unless a justification is documented (seed; DOMAIN §A). Counted on
 * the unit of billing, each discipline's codes of a date of service (issue 26 §2).
 */
function checkCaps(date: string, group: DisciplineGroup, allocations: readonly UnitAllocation[], policy: BillingPolicy, findings: BillingFinding[]): void {
  for (const cap of policy.sessionCaps) {
    const ofCode = group.services.filter((s) => s.code === cap.code);
    const result = applySessionCap(allocations, cap, ofCode.some((s) => s.justified));
    if (result.heldForReview) {
      const message = `${result.reason} (${disciplineName(group.discipline)}, date of service ${date}) Add a justification extension to the procedure (why more units were needed), or correct the minutes.`;
      findings.push(finding('billing-session-cap', 'error', message, 'Claim.item.quantity', ofCode.map((s) => s.ref), `payer policy ${policy.id}: sessionCaps; seed (DOMAIN §A)`));
    }
  }
}

/**
 * Why a visit's units differ from what it alone would earn (issue 26 §3): when a discipline's date pools several
 * visits and a timed code's units on the date are not the sum of what each visit would earn alone (7 + 7 minutes:
 * 0 + 0 alone, 1 on the date; 10 + 10 minutes: 1 + 1 alone, 1 on the date), each of those visits gets a warning that
 * gives the date-level count, so that a therapist or biller sees why the line has the units it has.
 */
function checkVisits(date: string, group: DisciplineGroup, allocations: readonly UnitAllocation[], policy: BillingPolicy, findings: BillingFinding[]): void {
  const visits = new Map<string, ServiceFact[]>();
  for (const s of group.services) visits.set(s.encounterRef, [...(visits.get(s.encounterRef) ?? []), s]);
  if (visits.size < 2) return;
  const alone = new Map([...visits].map(([encounter, services]) => [encounter, computeUnits(services.map((s) => ({ code: s.code, minutes: s.minutes ?? 0 })), policy)]));
  const discipline = disciplineName(group.discipline);
  const totalMinutes = group.services.filter((s) => isTimedCode(s.code)).reduce((sum, s) => sum + (s.minutes ?? 0), 0);
  for (const day of allocations.filter((a) => isTimedCode(a.code))) {
    const visitUnits = [...alone].map(([encounter, list]) => ({ encounter, allocation: list.find((a) => a.code === day.code) })).filter((v) => v.allocation !== undefined);
    const sum = visitUnits.reduce((n, v) => n + v.allocation!.units, 0);
    if (sum === day.units) continue;
    for (const { encounter, allocation } of visitUnits) {
      const refs = visits.get(encounter)!.filter((s) => s.code === day.code).map((s) => s.ref);
      const counted = policy.unitRule === 'cms-8-minute' ? `the ${totalMinutes} timed ${discipline} minutes of ${visits.size} visits on ${date} are counted together (CMS 8-minute rule)` : `the ${day.minutes} minutes of ${day.code} of ${visits.size} visits on ${date} are counted together (${policy.unitRule} rule)`;
      const message = `${day.code} (${discipline}): this visit's ${allocation!.minutes} minutes would earn ${allocation!.units} unit(s) alone, but the unit of billing is the date of service: ${counted}, and ${day.code} gets ${day.units} unit(s) on one line for the date (${visitUnits.length} visit(s) with ${day.code} would earn ${sum} apart).`;
      findings.push(finding('billing-date-of-service-units', 'warning', message, 'Procedure.extension', [encounter, ...refs], `${PUB_100_04}; DOMAIN-97116 §A`));
    }
  }
}

function disciplineName(discipline: Discipline | null): string {
  return discipline ?? 'unknown discipline';
}

type Draft = Pick<BillingLine, 'code' | 'date' | 'units' | 'services'>;

/**
 * NCCI PTP edits per date (modifiers.ts ptpModifiers): the column-2 line gets the policy's distinct modifier only
 * when the `distinct-service` extension is on EITHER procedure of the pair (guide §5).
 */
function distinctModifiers(facts: BillingFacts, drafts: readonly Draft[], policy: BillingPolicy, pairs: readonly PtpPair[], findings: BillingFinding[]): Map<string, DistinctModifier> {
  const result = new Map<string, DistinctModifier>();
  const dates = [...new Set(drafts.map((d) => d.date))];
  for (const date of dates) {
    const perCode = new Map<string, number>();
    for (const d of drafts.filter((x) => x.date === date)) perCode.set(d.code, (perCode.get(d.code) ?? 0) + d.units);
    const codeLines = [...perCode].map(([code, units]) => ({ code, units }));
    const onDate = facts.services.filter((s) => s.date === date);
    const documented = (_code: string, pair: PtpPair): boolean =>
      onDate.some((s) => (s.code === pair.column1 || s.code === pair.column2) && s.distinct);
    const ptp = ptpModifiers(codeLines, documented, { prefer: policy.distinctModifier, pairs });
    for (const m of ptp.modifiers) result.set(`${date}|${m.code}`, m.modifier);
    for (const f of ptp.findings) {
      const refs = onDate.filter((s) => s.code === f.column1 || s.code === f.column2).map((s) => s.ref);
      const message = `${f.message} Document on either procedure (distinct-service extension) that it was a separate 15-minute block, or remove the line.`;
      findings.push(finding('billing-ptp-not-separately-payable', 'error', message, 'Procedure.extension', refs, f.source));
    }
  }
  return result;
}

/**
 * KX per line (modifiers.ts markKxLines) when the policy uses the therapy threshold: the patient's allowed amounts of
 * earlier claims this calendar year, then this claim's lines in order (expected allowed x units; 85% for CQ/CO).
 */
function kxFlags(lines: readonly (Draft & { discipline: Discipline | null; assistantModifier: AssistantModifier | null; fee: FeeEntry | undefined })[], policy: BillingPolicy, prior: readonly PriorAllowedLine[], findings: BillingFinding[]): boolean[] {
  const flags = lines.map(() => false);
  if (!policy.kx) return flags;
  for (const year of [...new Set(lines.map((l) => l.date.slice(0, 4)))]) {
    const indexes = lines.map((l, i) => ({ l, i })).filter(({ l }) => l.date.startsWith(year) && l.discipline !== null);
    const priorAllowed = priorPools(prior.filter((p) => p.date.startsWith(year)));
    const input = indexes.map(({ l }) => ({ discipline: l.discipline!, allowed: fromCents(Math.round(toCents(l.fee?.expectedAllowed ?? 0) * l.units * (l.assistantModifier ? ASSISTANT_PAYMENT_SHARE : 1))) }));
    try {
      markKxLines(priorAllowed, input, Number(year)).forEach((r, j) => (flags[indexes[j]!.i] = r.kx));
    } catch (err) {
      findings.push(finding('billing-kx-year-unknown', 'warning', `${(err as Error).message}: KX could not be decided; check the patient's therapy amounts for ${year} by hand.`, 'Claim.item.modifier', [], 'SSA §1833(g); BBA 2018 §50202'));
    }
  }
  return flags;
}

function priorPools(prior: readonly PriorAllowedLine[]): PriorAllowed {
  let ptSlp = 0;
  let ot = 0;
  for (const p of prior) {
    if (p.discipline === 'OT') ot += toCents(p.allowed);
    else ptSlp += toCents(p.allowed);
  }
  return { ptSlp: fromCents(ptSlp), ot: fromCents(ot) };
}

function noDiscipline(code: string, services: readonly ServiceFact[]): BillingFinding {
  const message = `${code}: no performer has a known discipline (performer.function or the PractitionerRole's NUCC code): its minutes cannot be counted with a discipline's (PT, OT and SLP count apart) and its line has no GP/GO/GN modifier.`;
  return finding('billing-discipline-unknown', 'error', message, 'Procedure.performer.function', services.map((s) => s.ref), 'Stride guide §3.2; Pub 100-04 ch. 5 §20.1');
}

export function finding(ruleId: string, severity: BillingFinding['severity'], message: string, expression: string, implicated: readonly string[], source: string): BillingFinding {
  return { ruleId, severity, message, expression: [expression], source, implicated: [...new Set(implicated)] };
}

