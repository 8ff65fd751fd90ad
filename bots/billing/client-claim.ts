/**
 * The claim scrubber on a Claim a client writes (issue 7 §5; DOMAIN-97116 §D): the same checks as on generated
 * Claims. When the Claim's lines name Stride sessions (item.encounter), units are checked against the units the
 * minutes of those sessions' dates of service allow (each date's sessions pooled per discipline, as billing counts
 * them: issue 26), and the sessions' open documentation findings count. An `active` Claim with an error is set back
 * to `draft` (a new version by the bot, with its Provenance); a clean draft stays draft: submitting is the client's
 * decision. The bot also writes the Claim's stage (src/billing/stage.ts) when it is not the one the Claim carries.
 */
import type { Claim, ClaimResponse, Encounter } from '@medplum/fhirtypes';
import { referenceKey, type BotContext } from '../../src/bots/index.js';
import { combineSessions } from '../../src/billing/day.js';
import { hasErrorFindings, type OpenFinding } from '../../src/billing/findings.js';
import { computeLines } from '../../src/billing/lines.js';
import { SESSION_ENCOUNTER_PROFILE as ENCOUNTER_PROFILE } from '../../src/billing/codes.js';
import { scrubClaim } from '../../src/billing/scrubber.js';
import { FEES, billingPolicyOf } from './data.js';
import { claimGroups, daysOf } from './day.js';
import { gatherDay, lookupFrom } from './gather.js';
import { toFindings, withCycle, withoutMeta, type SessionBilling } from './write.js';
import { canonicalJson } from '../../src/billing/stage.js';

export async function scrubClientClaim(claim: Claim, ctx: BotContext): Promise<SessionBilling> {
  const claimKey = `Claim/${claim.id}`;
  const keys = [...new Set((claim.item ?? []).flatMap((i) => i.encounter ?? []).map((e) => referenceKey(e)).filter((k): k is string => !!k?.startsWith('Encounter/')))];
  const sessions: Encounter[] = [];
  for (const key of keys) {
    const encounter = await ctx.read<Encounter>(key);
    if (encounter?.meta?.profile?.includes(ENCOUNTER_PROFILE)) sessions.push(encounter);
  }
  let sessionUnits: Map<string, number> | null = null;
  const openFindings: OpenFinding[] = [];
  for (const day of sessions.length ? await daysOf(sessions, [], ctx) : []) {
    const gathered = await gatherDay(day.patient, day.date, ctx);
    openFindings.push(...gathered.openFindings.filter((f) => !openFindings.some((o) => o.reference === f.reference)));
    sessionUnits ??= new Map();
    for (const group of claimGroups(day, gathered)) {
      const facts = combineSessions(group);
      for (const [k, v] of computeLines(facts, billingPolicyOf(facts.coverage, ctx), FEES, []).units) sessionUnits.set(k, (sessionUnits.get(k) ?? 0) + v);
    }
  }
  const findings = scrubClaim(claim, { resolve: await lookupFrom([claim], ctx), fees: FEES, sessionUnits, openFindings });
  const patient = referenceKey(claim.patient) ?? null;
  // An active Claim with an error goes back to draft; every therapy Claim carries its stage (issue 20 §5).
  const held: Claim = claim.status === 'active' && hasErrorFindings(findings) ? { ...withoutMeta(claim), status: 'draft' } : claim;
  const responses = await ctx.search<ClaimResponse>('ClaimResponse', { request: claimKey });
  const staged = withCycle(held, claim, responses);
  const upserts = canonicalJson(withoutMeta(staged)) === canonicalJson(withoutMeta(claim)) ? [] : [{ resource: withoutMeta(staged), sources: [claim] }];
  return { upserts, subjects: [claimKey], findings: toFindings(findings, keys.slice(0, 1), [], claimKey, patient) };
}
