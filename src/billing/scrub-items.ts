/**
 * Line checks of the claim scrubber (DOMAIN-97116 §D; 837P loop 2400): CPT code, modifiers valid for it, units,
 * charge = units x fee, diagnosis pointers, place of service, service date; and the claim total (CLM02).
 */
import type { Claim, ClaimItem } from '@medplum/fhirtypes';
import { MODIFIER_CODES, PLACE_OF_SERVICE, SYSTEMS, codingIn } from './codes.js';
import { findFee, toCents } from './fee-schedule.js';
import type { BillingFinding } from './findings.js';
import { PTP_PAIRS } from './modifiers.js';
import { scrubFinding, type ScrubContext } from './scrub-context.js';
import { isTimedCode, isUntimedCode } from './units.js';

const CPT_PATTERN = /^[0-9]{4}[0-9A-Z]$/;
const HCPCS_PATTERN = /^[A-V][0-9]{4}$/;
const DISCIPLINE = new Set(['GP', 'GO', 'GN']);
const DISTINCT = new Set(['59', 'XE', 'XS', 'XP', 'XU']);

export function checkItems(claim: Claim, ctx: ScrubContext): BillingFinding[] {
  const items = claim.item ?? [];
  if (items.length === 0 || items.length > 50) {
    return [scrubFinding('scrub-cpt', `A professional claim carries 1 to 50 lines; this one has ${items.length}.`, 'Claim.item')];
  }
  const sequences = new Set((claim.diagnosis ?? []).map((d) => d.sequence));
  const findings = items.flatMap((item, i) => [
    ...checkCode(item, i),
    ...checkModifiers(claim, item, i, ctx),
    ...checkQuantity(item, i),
    ...checkCharge(item, i, ctx),
    ...checkPointers(item, i, sequences),
    ...checkPlace(item, i),
  ]);
  return [...findings, ...checkSessionUnits(items, ctx), ...checkTotal(claim)];
}

export function itemCode(item: ClaimItem): string | undefined {
  return codingIn(item.productOrService, SYSTEMS.cpt, SYSTEMS.hcpcs)?.code;
}

function itemDate(item: ClaimItem): string | undefined {
  return (item.servicedDate ?? item.servicedPeriod?.start)?.slice(0, 10);
}

function modifierCodes(item: ClaimItem): string[] {
  return (item.modifier ?? []).map((m) => m.coding?.[0]?.code ?? m.text ?? '?');
}

function checkCode(item: ClaimItem, i: number): BillingFinding[] {
  const code = itemCode(item);
  if (code && (CPT_PATTERN.test(code) || HCPCS_PATTERN.test(code))) return [];
  const what = code ? `"${code}" is not a well-formed CPT/HCPCS code` : 'has no CPT or HCPCS code';
  return [scrubFinding('scrub-cpt', `Line ${i + 1} ${what}.`, `Claim.item[${i}].productOrService`)];
}

/**
 * Modifiers valid for the code (Pub 100-04 ch. 5 §20.1; NCCI Policy Manual ch. I; cms.gov CQ/CO examples): at most 4,
 * each from the therapy-modifiers value set, no repeats; a therapy code carries exactly one of GP/GO/GN; CQ goes
 * with GP and CO with GO; one distinct-service modifier at most (never 59 with an X), and only on the column-2 code
 * of a PTP pair whose column-1 code is billed the same day; KX only with a discipline modifier.
 */
function checkModifiers(claim: Claim, item: ClaimItem, i: number, ctx: ScrubContext): BillingFinding[] {
  const code = itemCode(item) ?? '?';
  const mods = modifierCodes(item);
  const problems: string[] = [];
  if (mods.length > 4) problems.push(`${mods.length} modifiers (an 837P line holds 4)`);
  const unknown = mods.filter((m) => MODIFIER_CODES[m] === undefined);
  if (unknown.length > 0) problems.push(`${unknown.join(', ')} not in the therapy modifier value set`);
  if (new Set(mods).size !== mods.length) problems.push('a modifier repeated');
  const disciplines = mods.filter((m) => DISCIPLINE.has(m));
  if ((isTimedCode(code) || isUntimedCode(code)) && disciplines.length !== 1) {
    problems.push(disciplines.length === 0 ? 'no discipline modifier (GP, GO or GN) on a therapy code' : `several discipline modifiers (${disciplines.join(', ')})`);
  }
  if (mods.includes('CQ') && !mods.includes('GP')) problems.push('CQ without GP');
  if (mods.includes('CO') && !mods.includes('GO')) problems.push('CO without GO');
  if (mods.includes('KX') && disciplines.length === 0) problems.push('KX without a discipline modifier');
  const distinct = mods.filter((m) => DISTINCT.has(m));
  if (distinct.length > 1) problems.push(`${distinct.join(' and ')} together (one distinct-service modifier at most)`);
  if (distinct.length > 0 && !isPtpColumn2(claim, item, code, ctx)) {
    problems.push(`${distinct[0]} although ${code} is not the column-2 code of a PTP pair billed on this claim`);
  }
  if (problems.length === 0) return [];
  return [scrubFinding('scrub-modifiers', `Line ${i + 1} (${code}) has invalid modifiers: ${problems.join('; ')}.`, `Claim.item[${i}].modifier`)];
}

function isPtpColumn2(claim: Claim, item: ClaimItem, code: string, ctx: ScrubContext): boolean {
  const date = itemDate(item);
  const sameDay = new Set((claim.item ?? []).filter((x) => itemDate(x) === date).map(itemCode));
  return (ctx.ptpPairs ?? PTP_PAIRS).some((p) => p.column2 === code && p.modifierIndicator === '1' && sameDay.has(p.column1));
}

function checkQuantity(item: ClaimItem, i: number): BillingFinding[] {
  const units = item.quantity?.value;
  if (units !== undefined && Number.isInteger(units) && units > 0) return [];
  return [scrubFinding('scrub-units', `Line ${i + 1} (${itemCode(item) ?? '?'}) has ${units ?? 'no'} units: units are whole numbers above 0.`, `Claim.item[${i}].quantity`)];
}

/** SV102 = units x fee: the unit price is the fee schedule's, and net is units x unit price to the cent. */
function checkCharge(item: ClaimItem, i: number, ctx: ScrubContext): BillingFinding[] {
  const code = itemCode(item) ?? '?';
  const fee = findFee(ctx.fees, code);
  const units = item.quantity?.value ?? 0;
  const price = item.unitPrice?.value;
  const net = item.net?.value;
  const problems: string[] = [];
  if (!fee) problems.push(`${code} has no fee in fee schedule ${ctx.fees.id}`);
  if (price === undefined) problems.push('no unit price');
  else if (fee && toCents(price) !== toCents(fee.charge)) problems.push(`unit price ${price} differs from the fee schedule's ${fee.charge}`);
  if (net === undefined) problems.push('no net amount');
  else if (price !== undefined && toCents(net) !== toCents(price) * units) problems.push(`net ${net} is not ${units} x ${price}`);
  for (const money of [item.unitPrice, item.net]) {
    if (money?.currency && money.currency !== ctx.fees.currency) problems.push(`currency ${money.currency} is not ${ctx.fees.currency}`);
  }
  if (problems.length === 0) return [];
  return [scrubFinding('scrub-charge', `Line ${i + 1} (${code}): ${problems.join('; ')}.`, `Claim.item[${i}].net`)];
}

/** SV107: 1 to 4 pointers, each naming a Claim.diagnosis.sequence (stride-claim-3). */
function checkPointers(item: ClaimItem, i: number, sequences: ReadonlySet<number | undefined>): BillingFinding[] {
  const pointers = item.diagnosisSequence ?? [];
  const bad = pointers.filter((p) => !sequences.has(p));
  if (pointers.length >= 1 && pointers.length <= 4 && bad.length === 0) return [];
  const what = pointers.length === 0 ? 'no diagnosis pointer' : pointers.length > 4 ? `${pointers.length} pointers (4 at most)` : `pointer(s) ${bad.join(', ')} naming no diagnosis`;
  return [scrubFinding('scrub-diagnosis-pointer', `Line ${i + 1} (${itemCode(item) ?? '?'}) has ${what}.`, `Claim.item[${i}].diagnosisSequence`)];
}

/** CLM05-1 / SV105: a CMS place-of-service code; DTP*472: a service date. */
function checkPlace(item: ClaimItem, i: number): BillingFinding[] {
  const findings: BillingFinding[] = [];
  const pos = codingIn(item.locationCodeableConcept, SYSTEMS.pos)?.code;
  if (!pos || PLACE_OF_SERVICE[pos] === undefined) {
    const what = pos ? `place of service ${pos}, which is not in the place-of-service value set` : 'no place of service (CMS POS code)';
    findings.push(scrubFinding('scrub-place-of-service', `Line ${i + 1} (${itemCode(item) ?? '?'}) has ${what}.`, `Claim.item[${i}].locationCodeableConcept`));
  }
  if (!itemDate(item)) findings.push(scrubFinding('scrub-service-date', `Line ${i + 1} (${itemCode(item) ?? '?'}) has no service date.`, `Claim.item[${i}].servicedDate`));
  return findings;
}

/** Units consistent with the session: per date and code, the claim's units equal what the minutes allow (§A). */
function checkSessionUnits(items: readonly ClaimItem[], ctx: ScrubContext): BillingFinding[] {
  if (!ctx.sessionUnits) return [];
  const billed = new Map<string, number>();
  for (const item of items) {
    const key = `${itemDate(item)}|${itemCode(item)}`;
    billed.set(key, (billed.get(key) ?? 0) + (item.quantity?.value ?? 0));
  }
  const findings: BillingFinding[] = [];
  for (const [key, units] of billed) {
    const allowed = ctx.sessionUnits.get(key) ?? 0;
    if (units !== allowed) {
      const [date, code] = key.split('|');
      const index = items.findIndex((it) => `${itemDate(it)}|${itemCode(it)}` === key);
      findings.push(scrubFinding('scrub-units', `${code} on ${date}: the claim bills ${units} unit(s) but the session's documented minutes support ${allowed}.`, `Claim.item[${index}].quantity`));
    }
  }
  return findings;
}

/** CLM02 = the sum of the line charges. */
function checkTotal(claim: Claim): BillingFinding[] {
  const sum = (claim.item ?? []).reduce((cents, it) => cents + toCents(it.net?.value ?? 0), 0);
  const total = claim.total?.value;
  if (total !== undefined && toCents(total) === sum) return [];
  return [scrubFinding('scrub-charge', `The claim total ${total ?? 'is missing and'} does not equal the sum of the line charges (${sum / 100}).`, 'Claim.total')];
}
