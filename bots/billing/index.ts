/**
 * The billing bot (issues 7 and 26; DOMAIN-97116 §A, §B, §D): the finished therapy sessions of a patient's date of
 * service become one ChargeItem per billable line and one professional Claim per patient, date, coverage and billing
 * provider, scrubbed, `active` only when clean; a Claim a client posts is scrubbed too. The computing is src/billing's
 * pure functions; this bot gathers the inputs and writes the results. It runs after the documentation bot in each
 * round (`after`), so it reads that bot's findings of the same write; a later change to those findings (a
 * DetectedIssue written or closed) triggers it again.
 */
import type { Claim, Encounter, Procedure, Resource } from '@medplum/fhirtypes';
import { defineBot, referenceKey, type BotActions, type BotContext, type BotInput, type Finding } from '../../src/bots/index.js';
import { SESSION_ENCOUNTER_PROFILE as ENCOUNTER_PROFILE, SYSTEMS, THERAPY_CLAIM_PROFILE } from '../../src/billing/codes.js';
import { TIMED_CODES, UNTIMED_CODES } from '../../src/billing/units.js';
import { DOCUMENTATION_BOT } from './gather.js';
import { RULES } from './rules.js';
import { billDay, daysOf } from './day.js';
import type { SessionBilling } from './write.js';
import { scrubClientClaim } from './client-claim.js';
import { startBilling } from './data.js';


/**
 * A client's Claim is scrubbed when it is a therapy claim: it claims the guide's TherapyClaim profile or bills a
 * therapy code (src/billing/units.ts). Other claims (a hospital's inpatient claims in a bulk load) pass untouched:
 * the scrubber's rules are those of outpatient therapy.
 */
const THERAPY_CODES = [...TIMED_CODES, ...UNTIMED_CODES].map((c) => `'${c}'`).join(' | ');
const THERAPY_CLAIM = `meta.profile contains '${THERAPY_CLAIM_PROFILE}' or item.productOrService.coding.where((system = '${SYSTEMS.cpt}' or system = '${SYSTEMS.hcpcs}') and (code in (${THERAPY_CODES}))).exists()`;

const TRIGGERS = {
  Encounter: `meta.profile contains '${ENCOUNTER_PROFILE}'`,
  Procedure: `encounter.exists() and code.coding.system contains '${SYSTEMS.cpt}'`,
  DetectedIssue: `author.identifier.value = '${DOCUMENTATION_BOT}'`,
  Claim: `identifier.where(system = '${SYSTEMS.billingKey}').empty() and (${THERAPY_CLAIM})`,
};

export default defineBot({
  id: 'billing',
  description:
    'Bills finished therapy sessions by date of service (DOMAIN-97116 §A, §B, §D): one ChargeItem per billable line and one Claim per patient, date, coverage and billing provider, ' +
    'each discipline\'s minutes of the date pooled, units by the payer policy (CMS 8-minute or midpoint rule), modifiers (GP/GO/GN, CQ/CO, KX, 59/X), fees from the fee schedule; ' +
    'the claim scrubber keeps a Claim in draft until it is clean. Claims posted by clients are scrubbed as well.',
  resourceTypes: Object.keys(TRIGGERS),
  when: TRIGGERS,
  rules: RULES,
  after: [DOCUMENTATION_BOT],
  start: startBilling,
  async run(input, ctx) {
    const sessions = await sessionsOf(input, ctx);
    const actions: Required<Pick<BotActions, 'upserts'>> & { findings: { subjects: string[]; items: Finding[] } } = { upserts: [], findings: { subjects: [], items: [] } };
    const add = (result: SessionBilling) => {
      actions.upserts.push(...result.upserts);
      actions.findings.subjects.push(...result.subjects);
      actions.findings.items.push(...result.findings);
    };
    const live = (await Promise.all([...sessions.live].map((key) => ctx.read<Encounter>(key)))).filter((e): e is Encounter => e !== undefined);
    for (const day of await daysOf(live, sessions.gone, ctx)) add(await billDay(day, ctx));
    for (const claim of input.resources.filter((r): r is Claim => r.resourceType === 'Claim')) add(await scrubClientClaim(claim, ctx));
    return { upserts: actions.upserts, findings: { subjects: [...new Set(actions.findings.subjects)], items: actions.findings.items } };
  },
});

/** The sessions (`Encounter/id`) a write concerns: live ones to bill, deleted ones whose dates are billed without them. */
async function sessionsOf(input: BotInput, ctx: BotContext): Promise<{ live: Set<string>; gone: { key: string; previous?: Encounter }[] }> {
  const live = new Set<string>();
  const gone: { key: string; previous?: Encounter }[] = [];
  const fromResource = (r: Resource | undefined) => {
    if (!r) return;
    if (r.resourceType === 'Encounter') live.add(`Encounter/${r.id}`);
    else if (r.resourceType === 'Procedure') {
      const key = referenceKey((r as Procedure).encounter);
      if (key) live.add(key);
    } else if (r.resourceType === 'DetectedIssue') {
      for (const ref of r.implicated ?? []) {
        const key = referenceKey(ref);
        if (key?.startsWith('Encounter/')) live.add(key);
      }
    }
  };
  for (const r of input.resources) fromResource(r);
  for (const d of input.deleted) {
    if (d.key.startsWith('Encounter/')) gone.push({ key: d.key, previous: d.previous as Encounter | undefined });
    else fromResource(d.previous);
  }
  // A Procedure's or finding's Encounter that is not a Stride session is not billed here.
  for (const key of live) {
    if (gone.some((g) => g.key === key)) live.delete(key);
    else if (!(await ctx.read<Encounter>(key))?.meta?.profile?.includes(ENCOUNTER_PROFILE)) live.delete(key);
  }
  return { live, gone };
}
