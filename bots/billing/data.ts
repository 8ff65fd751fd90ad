/**
 * The billing data, read and validated with ajv when the bot loads (start-up): the fee schedule and the billing
 * fields of every shipped payer policy. A broken file stops start-up naming it (src/billing/*.ts parse functions).
 */
import { loadBillingPolicies, assertBillingForEvery, billingPolicyFor, type BillingPolicy } from '../../src/billing/policy.js';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import { loadPolicies } from '../../src/bots/policies.js';
import { defaultPoliciesDir } from '../../src/bots/loader.js';
import type { BotContext } from '../../src/bots/index.js';
import type { CoverageFact } from '../../src/billing/session.js';

export const FEES = loadFeeSchedule();
export const BILLING_POLICIES = loadBillingPolicies();
assertBillingForEvery(loadPolicies(defaultPoliciesDir()).all.map((p) => p.id), BILLING_POLICIES);

/** The billing fields of the payer policy the runtime selects for the coverage (Coverage.type, payer identifier). */
export function billingPolicyOf(coverage: CoverageFact | null, ctx: BotContext): BillingPolicy {
  const chosen = ctx.policies.select(coverage?.resource, coverage?.payer ?? undefined);
  return billingPolicyFor(chosen.id, BILLING_POLICIES);
}
