/**
 * One session's billing as bot actions: compute with src/billing (readSession -> buildBilling), then write only what
 * changed. Generated Claims and ChargeItems get ids derived from their billing keys, so a re-run (another write to
 * the session, a retried transaction, two processes) updates them and never adds a second one.
 */
import { createHash } from 'node:crypto';
import type { ChargeItem, Claim, Encounter, Resource } from '@medplum/fhirtypes';
import { referenceKey, type BotContext, type Finding, type Upsert } from '../../src/bots/index.js';
import { buildBilling, claimKey } from '../../src/billing/claim.js';
import type { BillingFinding } from '../../src/billing/findings.js';
import { priorAllowedFromClaims } from '../../src/billing/prior.js';
import { readSession } from '../../src/billing/session.js';
import { SYSTEMS } from '../../src/billing/codes.js';
import { FEES, billingPolicyOf } from './data.js';
import { gatherSession, isGenerated } from './gather.js';
import { ruleFor } from './rules.js';

export interface SessionBilling {
  upserts: Upsert[];
  /** Subjects whose billing findings are reconciled: exactly `findings` stay open on them. */
  subjects: string[];
  findings: Finding[];
}

const NOTHING: SessionBilling = { upserts: [], subjects: [], findings: [] };

export async function billSession(encounter: Encounter, ctx: BotContext): Promise<SessionBilling> {
  const encounterKey = `Encounter/${encounter.id}`;
  const gathered = await gatherSession(encounter, ctx);
  const earlier = gathered.generatedClaims.filter((c) => c.status !== 'cancelled');
  // A session not finished is billed only once it is; one that was billed keeps its Claim, held in draft.
  if (encounter.status !== 'finished' && earlier.length === 0) return { ...NOTHING, subjects: [encounterKey] };
  const facts = readSession({ encounter, procedures: gathered.procedures, coverages: gathered.coverages, resolve: gathered.resolve });
  const policy = billingPolicyOf(facts.coverage, ctx);
  const key = facts.coverage ? claimKey(encounterKey, facts.coverage.ref) : undefined;
  const otherSessions = gathered.priorClaims.filter((c) => !c.item?.some((i) => i.encounter?.some((e) => e.reference === encounterKey)));
  const prior = priorAllowedFromClaims(otherSessions, FEES, { responses: gathered.priorResponses });
  const result = buildBilling(facts, policy, FEES, prior, { openFindings: gathered.openFindings });

  const sources: Resource[] = [encounter, ...gathered.procedures, ...(facts.coverage ? [facts.coverage.resource] : [])];
  const upserts: Upsert[] = [];
  const cancelled = result.claim?.status === 'cancelled';
  const claimId = result.claim && key ? generatedId('claim', key) : undefined;
  if (result.claim && claimId) {
    const claim: Claim = { ...result.claim, id: claimId };
    if (!(cancelled && !earlier.some((c) => c.id === claimId))) await upsertIfChanged(claim, sources, ctx, upserts);
  }
  const chargeIds = new Set<string>();
  for (const item of result.chargeItems) {
    const id = generatedId('charge', billingKeyOf(item));
    chargeIds.add(id);
    const existing = gathered.generatedCharges.find((c) => c.id === id);
    if (cancelled && !existing) continue;
    await upsertIfChanged({ ...item, id }, sources, ctx, upserts);
  }
  // What billing wrote before and this run no longer produces: another coverage's Claim, a line that went away.
  for (const claim of earlier) if (claim.id !== claimId) upserts.push({ resource: { ...withoutMeta(claim), status: 'cancelled' }, sources });
  for (const charge of gathered.generatedCharges) {
    if (!chargeIds.has(charge.id!) && charge.status !== 'entered-in-error') upserts.push({ resource: { ...withoutMeta(charge), status: 'entered-in-error' }, sources });
  }
  const subjects = [encounterKey, ...(claimId ? [`Claim/${claimId}`] : []), ...earlier.map((c) => `Claim/${c.id}`)];
  return { upserts, subjects, findings: toFindings(result.findings, encounterKey, claimId ? `Claim/${claimId}` : encounterKey, facts.patientRef) };
}

/** The session was deleted: its Claims are cancelled and its ChargeItems withdrawn. */
export async function cancelSession(encounterKey: string, ctx: BotContext): Promise<SessionBilling> {
  const claims = (await ctx.search<Claim>('Claim', { encounter: encounterKey })).filter((c) => isGenerated(c) && c.status !== 'cancelled');
  const charges = (await ctx.search<ChargeItem>('ChargeItem', { context: encounterKey })).filter((c) => isGenerated(c) && c.status !== 'entered-in-error');
  return {
    upserts: [
      ...claims.map((c) => ({ resource: { ...withoutMeta(c), status: 'cancelled' as const }, sources: [encounterKey] })),
      ...charges.map((c) => ({ resource: { ...withoutMeta(c), status: 'entered-in-error' as const }, sources: [encounterKey] })),
    ],
    subjects: [encounterKey, ...claims.map((c) => `Claim/${c.id}`)],
    findings: [],
  };
}

/**
 * Billing findings as bot findings: scrub-* findings are about the Claim, the others about the session. Findings of
 * one rule on one subject (two lines with bad units) become one, their details joined: a DetectedIssue per rule.
 */
export function toFindings(items: readonly BillingFinding[], encounterKey: string, claimKey: string, patient: string | null): Finding[] {
  const merged = new Map<string, Finding>();
  for (const f of items) {
    const rule = ruleFor(f.ruleId);
    const subject = rule.startsWith('scrub-') ? claimKey : encounterKey;
    const detail = rule === f.ruleId ? f.message : `${f.ruleId}: ${f.message}`;
    const implicated = (f.implicated ?? []).map((r) => referenceKey(r)).filter((r): r is string => r !== undefined);
    const id = `${rule}|${subject}`;
    const open = merged.get(id);
    if (open) {
      if (!open.detail.includes(detail)) open.detail = `${open.detail} ${detail}`;
      open.implicated = [...new Set([...open.implicated, ...implicated])];
      open.expression = [...new Set([...(open.expression ?? []), ...f.expression])];
    } else {
      merged.set(id, { rule, subject, detail, implicated: [...new Set([subject === encounterKey ? claimKey : encounterKey, ...implicated])].filter((r) => r !== subject), expression: [...f.expression], ...(patient ? { patient } : {}) });
    }
  }
  return [...merged.values()];
}

/** A FHIR id from a billing key: `claim-`/`charge-` and 40 hex digits of its SHA-256. */
export function generatedId(kind: 'claim' | 'charge', key: string): string {
  return `${kind}-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

function billingKeyOf(resource: ChargeItem | Claim): string {
  return resource.identifier?.find((i) => i.system === SYSTEMS.billingKey)?.value ?? '';
}

/** Adds the upsert unless the stored version already says the same (ignoring meta), so a re-run writes nothing. */
async function upsertIfChanged(resource: Claim | ChargeItem, sources: Resource[], ctx: BotContext, upserts: Upsert[]): Promise<void> {
  const stored = await ctx.read(`${resource.resourceType}/${resource.id}`);
  if (stored && canonical(withoutMeta(stored)) === canonical(withoutMeta(resource))) return;
  upserts.push({ resource, sources });
}

/** The resource without its version and timestamp (meta keeps only the profiles it claims). */
export function withoutMeta<T extends Resource>(resource: T): T {
  const { meta, ...rest } = resource;
  const profile = meta?.profile;
  return (profile ? { ...rest, meta: { profile } } : rest) as T;
}

/** JSON with sorted keys: equal resources give equal text whatever order their keys were written in. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))) : v,
  );
}
