/**
 * Billing by the date of service (issue 26; DOMAIN-97116 §A "The day, not the visit"): a write to a session re-bills
 * every date it touches, now or before (a session moved, reopened, cancelled or deleted). The finished sessions of a
 * patient's date pool their minutes per discipline into one Claim per coverage and billing provider; the Claims and
 * ChargeItems billing wrote for that date before are updated (new versions, same ids) or withdrawn, never duplicated.
 * A lock per patient and date makes two Stride processes that write two sessions of one date at once bill it one
 * after the other (PostgreSQL), the second from what the first committed.
 */
import type { ChargeItem, Claim, Encounter, Procedure } from '@medplum/fhirtypes';
import { referenceKey, type BotContext } from '../../src/bots/index.js';
import { buildBilling } from '../../src/billing/claim.js';
import { combineSessions, sessionDate } from '../../src/billing/day.js';
import { priorAllowedFromClaims } from '../../src/billing/prior.js';
import { readSession, type SessionFacts } from '../../src/billing/session.js';
import { FEES, billingPolicyOf } from './data.js';
import { claimDate, gatherDay, isGenerated, type GatheredDay } from './gather.js';
import { billingKeyOf, generatedId, toFindings, upsertIfChanged, withCycle, withoutMeta, type SessionBilling } from './write.js';

/** A patient's date of service to bill. */
export interface BillingDay {
  patient: string;
  date: string;
}

/** Sessions that are gone from billing: their Claims are cancelled, their lines withdrawn. */
const REMOVED = new Set<Encounter['status']>(['cancelled', 'entered-in-error']);

/**
 * The dates a write to these sessions touches: each session's dates of service now (its procedures' dates, else its
 * start), and the dates of the Claims billing generated with it before. A deleted session counts by its last version.
 */
export async function daysOf(live: readonly Encounter[], gone: readonly { key: string; previous?: Encounter }[], ctx: BotContext): Promise<BillingDay[]> {
  const days = new Map<string, BillingDay>();
  const add = (patient: string | undefined, date: string | null) => {
    if (patient && date) days.set(`${patient}|${date}`, { patient, date });
  };
  const sessions = [...live.map((e) => ({ key: `Encounter/${e.id}`, encounter: e as Encounter | undefined })), ...gone.map((g) => ({ key: g.key, encounter: g.previous }))];
  for (const { key, encounter } of sessions) {
    const patient = referenceKey(encounter?.subject);
    const procedures = await ctx.search<Procedure>('Procedure', { encounter: key });
    if (encounter && patient) {
      const facts = readSession({ encounter, procedures, coverages: [], resolve: () => undefined });
      const dates = new Set(facts.services.map((s) => s.date));
      if (dates.size === 0) dates.add(sessionDate(facts) ?? '');
      for (const date of dates) add(patient, date || null);
    }
    for (const claim of (await ctx.search<Claim>('Claim', { encounter: key })).filter(isGenerated)) add(referenceKey(claim.patient), claimDate(claim));
  }
  return [...days.values()].sort((a, b) => (`${a.patient}|${a.date}` < `${b.patient}|${b.date}` ? -1 : 1));
}

/** Bills one patient's date of service: every Claim and ChargeItem of the date, and the findings of its sessions. */
export async function billDay(day: BillingDay, ctx: BotContext): Promise<SessionBilling> {
  await ctx.lock(`billing-day|${day.patient}|${day.date}`);
  const gathered = await gatherDay(day.patient, day.date, ctx);
  // The date's Claims are rewritten from what they hold (the sendings $submit recorded on them): their rows are
  // locked first, so that a $submit or $process-x12 of another process that changes one is read, not overwritten.
  await ctx.lockResources(gathered.generatedClaims.map((c) => `Claim/${c.id}`));
  const result: SessionBilling = { upserts: [], subjects: gathered.encounters.map((e) => `Encounter/${e.id}`), findings: [] };
  const written = new Set<string>();
  for (const group of claimGroups(day, gathered)) await billGroup(group, gathered, ctx, result, written);
  await withdrawTheRest(gathered, written, result, ctx);
  result.subjects.push(...gathered.generatedClaims.map((c) => `Claim/${c.id}`));
  return result;
}

/**
 * The date's sessions that are billed, one group per Claim: finished sessions, and one billed before and reopened
 * (it stays on the Claim, which is held: claim.ts); one group per billing provider (an 837P claim has one, loop
 * 2010AA).
 */
export function claimGroups(day: BillingDay, gathered: GatheredDay): SessionFacts[][] {
  const billedBefore = new Set(gathered.generatedClaims.filter((c) => c.status !== 'cancelled').flatMap((c) => (c.item ?? []).flatMap((i) => (i.encounter ?? []).map((e) => referenceKey(e)))));
  const sessions: SessionFacts[] = [];
  for (const encounter of gathered.encounters) {
    if (REMOVED.has(encounter.status) || (encounter.status !== 'finished' && !billedBefore.has(`Encounter/${encounter.id}`))) continue;
    sessions.push(readSession({ encounter, procedures: gathered.procedures, coverages: gathered.coverages, resolve: gathered.resolve, date: day.date }));
  }
  const groups = new Map<string, SessionFacts[]>();
  for (const s of sessions) groups.set(s.billingProviderRef ?? '', [...(groups.get(s.billingProviderRef ?? '') ?? []), s]);
  return [...groups.values()];
}

async function billGroup(sessions: SessionFacts[], gathered: GatheredDay, ctx: BotContext, out: SessionBilling, written: Set<string>): Promise<void> {
  const facts = combineSessions(sessions);
  const encounters = new Set(facts.sessions.map((s) => s.encounterRef));
  const policy = billingPolicyOf(facts.coverage, ctx);
  // Claims billed per encounter before issue 26 that this Claim replaces: named in Claim.related, then cancelled.
  const legacy = gathered.generatedClaims.filter((c) => isLegacy(c) && c.item?.some((i) => i.encounter?.some((e) => encounters.has(referenceKey(e) ?? ''))));
  // KX counts the patient's other Claims, not this date's (rebuilt here) nor those this one replaces.
  const others = gathered.patientClaims.filter((c) => !gathered.generatedClaims.includes(c));
  const prior = priorAllowedFromClaims(others, FEES, { responses: gathered.patientResponses });
  const result = buildBilling(facts, policy, FEES, prior, { openFindings: gathered.openFindings, supersedes: legacy.map((c) => `Claim/${c.id}`) });
  const sources = [...facts.sessions.map((s) => s.encounter), ...gathered.procedures.filter((p) => encounters.has(referenceKey(p.encounter) ?? '')), ...(facts.coverage ? [facts.coverage.resource] : [])];
  let claimRef: string | null = null;
  if (result.claim) {
    const id = generatedId('claim', billingKeyOf(result.claim));
    const claim = withCycle({ ...result.claim, id }, await ctx.read<Claim>(`Claim/${id}`), gathered.patientResponses);
    claimRef = `Claim/${claim.id}`;
    written.add(claimRef);
    await upsertIfChanged(claim, sources, ctx, out.upserts);
    for (const item of result.chargeItems) {
      const charge: ChargeItem = { ...item, id: generatedId('charge', billingKeyOf(item)) };
      written.add(`ChargeItem/${charge.id}`);
      await upsertIfChanged(charge, sources, ctx, out.upserts);
    }
    out.subjects.push(claimRef);
  }
  out.findings.push(...toFindings(result.findings, facts.sessions.map((s) => s.encounterRef), facts.services, claimRef, facts.patientRef));
}

/**
 * What billing wrote for the date before and no longer produces: a Claim whose sessions were all removed or moved (or
 * whose coverage or billing provider changed) is cancelled, a per-encounter Claim replaced by the date's is cancelled
 * as superseded, and a line that went away has its ChargeItem set to entered-in-error. Each says why in its
 * Provenance.
 */
async function withdrawTheRest(gathered: GatheredDay, written: ReadonlySet<string>, out: SessionBilling, ctx: BotContext): Promise<void> {
  const replacing = [...written].filter((k) => k.startsWith('Claim/'));
  for (const found of gathered.generatedClaims) {
    // Read again: its row was locked after the search found it (billDay).
    const claim = (await ctx.read<Claim>(`Claim/${found.id}`)) ?? found;
    if (written.has(`Claim/${claim.id}`) || claim.status === 'cancelled') continue;
    const reason = isLegacy(claim) && replacing.length
      ? `Superseded by ${replacing.join(', ')}: claims are billed per patient and date of service, not per visit (issue 26).`
      : 'Nothing is left to bill on this claim: its sessions were cancelled, entered in error, deleted or moved to another date, or the date is now billed under another coverage or billing provider.';
    const cancelled = withCycle({ ...withoutMeta(claim), status: 'cancelled' }, claim, gathered.patientResponses);
    out.upserts.push({ resource: cancelled, sources: (claim.item ?? []).flatMap((i) => (i.encounter ?? []).map((e) => e.reference ?? '')).filter(Boolean), reason });
  }
  for (const charge of gathered.generatedCharges) {
    if (written.has(`ChargeItem/${charge.id}`) || charge.status === 'entered-in-error') continue;
    out.upserts.push({ resource: { ...withoutMeta(charge), status: 'entered-in-error' }, sources: charge.context?.reference ? [charge.context.reference] : [], reason: 'The line is no longer billed: the date of service was billed again without it.' });
  }
}

/** A Claim billed per encounter before issue 26: its billing key starts with the Encounter. */
function isLegacy(claim: Claim): boolean {
  return billingKeyOf(claim).startsWith('Encounter/');
}
