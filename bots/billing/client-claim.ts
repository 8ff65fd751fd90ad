/**
 * The claim scrubber on a Claim a client writes (issue 7 §5; DOMAIN-97116 §D): the same checks as on generated
 * Claims. When the Claim's lines name a Stride session (item.encounter), units are checked against the units that
 * session's minutes allow, and the session's open documentation findings count. An `active` Claim with an error is
 * set back to `draft` (a new version by the bot, with its Provenance); a clean draft stays draft: submitting is the
 * client's decision.
 */
import type { Claim, Encounter } from '@medplum/fhirtypes';
import { referenceKey, type BotContext } from '../../src/bots/index.js';
import { hasErrorFindings, type OpenFinding } from '../../src/billing/findings.js';
import { computeLines } from '../../src/billing/lines.js';
import { readSession } from '../../src/billing/session.js';
import { SESSION_ENCOUNTER_PROFILE as ENCOUNTER_PROFILE } from '../../src/billing/codes.js';
import { scrubClaim } from '../../src/billing/scrubber.js';
import { FEES, billingPolicyOf } from './data.js';
import { gatherSession, lookupFrom } from './gather.js';
import { toFindings, withoutMeta, type SessionBilling } from './session.js';

export async function scrubClientClaim(claim: Claim, ctx: BotContext): Promise<SessionBilling> {
  const claimKey = `Claim/${claim.id}`;
  const encounters = [...new Set((claim.item ?? []).flatMap((i) => i.encounter ?? []).map((e) => referenceKey(e)).filter((k): k is string => !!k?.startsWith('Encounter/')))];
  let sessionUnits: Map<string, number> | null = null;
  const openFindings: OpenFinding[] = [];
  for (const key of encounters) {
    const encounter = await ctx.read<Encounter>(key);
    if (!encounter?.meta?.profile?.includes(ENCOUNTER_PROFILE)) continue;
    const gathered = await gatherSession(encounter, ctx);
    openFindings.push(...gathered.openFindings);
    const facts = readSession({ encounter, procedures: gathered.procedures, coverages: gathered.coverages, resolve: gathered.resolve });
    const units = computeLines(facts, billingPolicyOf(facts.coverage, ctx), FEES, []).units;
    sessionUnits ??= new Map();
    for (const [k, v] of units) sessionUnits.set(k, (sessionUnits.get(k) ?? 0) + v);
  }
  const findings = scrubClaim(claim, { resolve: await lookupFrom([claim], ctx), fees: FEES, sessionUnits, openFindings });
  const patient = referenceKey(claim.patient) ?? null;
  const upserts = claim.status === 'active' && hasErrorFindings(findings) ? [{ resource: { ...withoutMeta(claim), status: 'draft' as const }, sources: [claim] }] : [];
  return { upserts, subjects: [claimKey], findings: toFindings(findings, encounters[0] ?? claimKey, claimKey, patient) };
}
