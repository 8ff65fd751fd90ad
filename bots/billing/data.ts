/**
 * The billing data: the fee schedule, read and validated with ajv when the bot loads, and the billing fields of the
 * payer policies, read at start-up (`start`) for the policies the server loaded: the shipped fields, with those of
 * `<STRIDE_POLICIES_DIR>/billing/*.json` added or replacing them by id. A broken file, or a payer policy without
 * billing fields, stops start-up naming it (src/billing/*.ts parse functions).
 */
import { loadBillingPolicies, loadBillingPoliciesFor, assertBillingForEvery, billingPolicyFor, type BillingPolicy } from '../../src/billing/policy.js';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import type { BotContext, PolicySet } from '../../src/bots/index.js';
import type { CoverageFact } from '../../src/billing/session.js';

export const FEES = loadFeeSchedule();
const SHIPPED = loadBillingPolicies();
/** Per set of payer policies (one per server; tests open several in one process). */
const BILLING = new WeakMap<PolicySet, BillingPolicy[]>();

/** Start-up: the billing fields of every payer policy the server loaded, or an error naming those without. */
export function startBilling(policies: PolicySet): void {
  const billing = loadBillingPoliciesFor(policies.dir);
  assertBillingForEvery(policies.all.map((p) => p.id), billing, policies.dir);
  BILLING.set(policies, billing);
}

/** The billing fields of the payer policy the runtime selects for the coverage (Coverage.type, payer identifier). */
export function billingPolicyOf(coverage: CoverageFact | null, ctx: BotContext): BillingPolicy {
  const chosen = ctx.policies.select(coverage?.resource, coverage?.payer ?? undefined);
  return billingPolicyFor(chosen.id, BILLING.get(ctx.policies) ?? SHIPPED);
}
