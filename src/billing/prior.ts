/**
 * The patient's allowed therapy amounts from earlier claims, for the KX threshold (DOMAIN-97116 §B; Pub 100-04
 * ch. 5 §10.3). The real allowed amount is the payer's (ClaimResponse adjudication `eligible`, from the 835); until
 * a response exists, the fee schedule's expected allowed amount x units stands in (85% for CQ/CO lines).
 */
import type { Claim, ClaimResponse, CodeableConcept } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from './codes.js';
import { isSecondaryClaim } from './secondary.js';
import { findFee, fromCents, toCents, type FeeSchedule } from './fee-schedule.js';
import type { PriorAllowedLine } from './lines.js';
import type { Discipline } from './types.js';

export interface PriorOptions {
  /** The key (Claim.identifier, billing-key system) of the claim being built: its earlier version is not "prior". */
  readonly excludeKey?: string;
  /** Adjudications of those claims; an `eligible` amount replaces the estimate for its line. */
  readonly responses?: readonly ClaimResponse[];
}

const DISCIPLINE_BY_MODIFIER: Readonly<Record<string, Discipline>> = { GP: 'PT', GO: 'OT', GN: 'SLP' };
const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';

/**
 * Lines of the patient's earlier active claims with their allowed amounts. Draft claims were never sent and
 * cancelled or entered-in-error ones do not count; lines without GP/GO/GN are not therapy lines.
 */
export function priorAllowedFromClaims(claims: readonly Claim[], fees: FeeSchedule, options: PriorOptions = {}): PriorAllowedLine[] {
  const lines: PriorAllowedLine[] = [];
  for (const claim of claims) {
    // A secondary claim bills the same services again, to the next payer: they count once, on the primary.
    if (claim.status !== 'active' || isSecondaryClaim(claim)) continue;
    if (options.excludeKey !== undefined && claim.identifier?.some((i) => i.system === SYSTEMS.billingKey && i.value === options.excludeKey)) continue;
    const adjudicated = eligibleAmounts(claim, options.responses ?? []);
    for (const item of claim.item ?? []) {
      const modifiers = (item.modifier ?? []).map((m) => m.coding?.[0]?.code ?? '');
      const discipline = modifiers.map((m) => DISCIPLINE_BY_MODIFIER[m]).find((d) => d !== undefined);
      const date = (item.servicedDate ?? item.servicedPeriod?.start)?.slice(0, 10);
      if (!discipline || !date) continue;
      const allowed = adjudicated.get(item.sequence) ?? estimate(item.productOrService, item.quantity?.value ?? 0, modifiers, fees) ?? item.net?.value ?? 0;
      lines.push({ date, discipline, allowed });
    }
  }
  return lines;
}

function estimate(product: CodeableConcept, units: number, modifiers: readonly string[], fees: FeeSchedule): number | undefined {
  const code = codingIn(product, SYSTEMS.cpt, SYSTEMS.hcpcs)?.code;
  const fee = code ? findFee(fees, code) : undefined;
  if (!fee) return undefined;
  const share = modifiers.includes('CQ') || modifiers.includes('CO') ? 0.85 : 1;
  return fromCents(Math.round(toCents(fee.expectedAllowed) * units * share));
}

/** itemSequence -> the sum of `eligible` adjudication amounts in the responses to this claim. */
function eligibleAmounts(claim: Claim, responses: readonly ClaimResponse[]): Map<number, number> {
  const amounts = new Map<number, number>();
  if (!claim.id) return amounts;
  for (const response of responses.filter((r) => r.request?.reference === `Claim/${claim.id}` && r.status === 'active')) {
    for (const item of response.item ?? []) {
      const eligible = (item.adjudication ?? []).filter((a) => a.category.coding?.some((c) => c.system === ADJUDICATION && c.code === 'eligible'));
      const cents = eligible.reduce((sum, a) => sum + toCents(a.amount?.value ?? 0), 0);
      if (eligible.length > 0) amounts.set(item.itemSequence, fromCents(toCents(amounts.get(item.itemSequence) ?? 0) + cents));
    }
  }
  return amounts;
}
