/**
 * Keeping each primary claim's secondary Claim in step with the primary payer's remittance (issue 21 §2;
 * src/billing/secondary.ts says what a secondary claim is). A WriteHook after the remittance posting (835 or keyed-in
 * EOB) and before the money ledger, in the write's own transaction: whenever a remittance ClaimResponse of a claim is
 * written (posted, corrected, reversed), the claim's current remittance decides:
 * - it leaves the patient a balance (or the payer forwarded the claim) and the patient has a next Coverage: the
 *   secondary Claim is created, or updated when the primary's adjudication changed (a secondary already sent then goes
 *   again as a replacement: its content changed);
 * - otherwise (reversed, corrected to nothing owed, no next Coverage) an existing secondary Claim is cancelled (a void
 *   is due when it was sent: stage.ts).
 * A secondary claim that the 837P cannot carry as built stays in draft with a work-queue Task saying why. A secondary
 * payer's own remittance builds nothing further: tertiary claims are not built (the README says so).
 */
import type { Claim, ClaimResponse, Coverage, Organization } from '@medplum/fhirtypes';
import type { Repository, StoredResource, WriteHook } from '../repo/repository.js';
import { SECONDARY_KEY, buildSecondaryClaim, isSecondaryClaim, nextCoverage, secondaryKeyOf, secondaryProblems, wantsSecondary } from '../billing/secondary.js';
import { remittanceSource } from '../billing/remit-stage.js';
import { deriveStage, fingerprintOf, isCycleExtension, withStage } from '../billing/stage.js';
import { openTask } from './remit-records.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';
import { escapeSearchValue } from '../search/values.js';

const MOST = 1000;
/** Values per search by a list (comma = OR). */
const CHUNK = 100;

export class SecondaryClaims implements WriteHook {
  async afterWrite(tx: Repository): Promise<void> {
    // The remittances this transaction wrote, by the claim they answer (the latest written last).
    const written = new Map<string, ClaimResponse[]>();
    for (const c of tx.changes) {
      if (c.resourceType !== 'ClaimResponse' || c.deleted) continue;
      const r = parse<ClaimResponse>(c);
      const id = r.request?.reference?.startsWith('Claim/') ? r.request.reference.slice(6) : undefined;
      if (!id || !remittanceSource(r)) continue;
      written.set(id, [...(written.get(id) ?? []).filter((x) => x.id !== r.id), r]);
    }
    if (written.size === 0) return;
    await follow(tx, written);
  }
}

function parse<T>(c: StoredResource): T {
  return (c.resource ?? parseJsonKeepingDecimals(c.json)) as T;
}

/** Every resource a search by a list of values finds, CHUNK values a statement (an 835 of 5,000 claims: 50 each). */
async function searchEach<T>(tx: Repository, resourceType: string, param: string, values: readonly string[]): Promise<T[]> {
  const out: T[] = [];
  for (let i = 0; i < values.length; i += CHUNK) {
    for (let offset = 0; ; offset += MOST) {
      const found = await tx.search({ resourceType, params: { [param]: [values.slice(i, i + CHUNK).join(',')] }, count: MOST, offset, total: 'none' });
      out.push(...found.rows.map((r) => parseJsonKeepingDecimals(r.content) as T));
      if (found.rows.length < MOST) break;
    }
  }
  return out;
}

async function readAll<T>(tx: Repository, references: readonly string[]): Promise<Map<string, T>> {
  const out = new Map<string, T>();
  const wanted = [...new Set(references.filter((r) => /^[A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(r)))];
  for (const [key, stored] of await tx.readCurrentMany(wanted)) if (!stored.deleted) out.set(key, parseJsonKeepingDecimals(stored.json) as T);
  return out;
}

const newestFirst = (a: ClaimResponse, b: ClaimResponse) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0);

/**
 * The claims whose remittances were written, a few statements for all of them (a posted 835 pays thousands): the
 * claims, their current remittances, their existing secondaries, the patients' Coverages and payers.
 */
async function follow(tx: Repository, written: Map<string, ClaimResponse[]>): Promise<void> {
  const claims = await readAll<Claim>(tx, [...written.keys()].map((id) => `Claim/${id}`));
  const primaries = [...claims.values()].filter((c) => !isSecondaryClaim(c));
  if (primaries.length === 0) return;
  // A claim's current remittance: the newest active one this transaction wrote; when it only cancelled one (a
  // reversal), the newest active one stored before.
  const latest = new Map<string, ClaimResponse | undefined>();
  const reversedOnly: string[] = [];
  for (const claim of primaries) {
    const active = (written.get(claim.id!) ?? []).filter((r) => r.status === 'active').sort(newestFirst)[0];
    if (active) latest.set(claim.id!, active);
    else reversedOnly.push(`Claim/${claim.id}`);
  }
  for (const r of (await searchEach<ClaimResponse>(tx, 'ClaimResponse', 'request', reversedOnly)).filter((x) => x.status === 'active' && remittanceSource(x)).sort(newestFirst)) {
    const id = r.request!.reference!.slice(6);
    if (!latest.has(id)) latest.set(id, r);
  }
  const existing = new Map<string, Claim>();
  for (const c of await searchEach<Claim>(tx, 'Claim', 'identifier', primaries.map((p) => `${SECONDARY_KEY}|${escapeSearchValue(secondaryKeyOf(p))}`))) {
    const key = c.identifier?.find((i) => i.system === SECONDARY_KEY)?.value;
    if (key) existing.set(key, c);
  }
  const wanting = primaries.filter((p) => p.status === 'active' && latest.get(p.id!) && wantsSecondary(latest.get(p.id!)!));
  const coverages = new Map<string, Coverage[]>();
  for (const c of await searchEach<Coverage>(tx, 'Coverage', 'beneficiary', [...new Set(wanting.map((p) => p.patient?.reference ?? ''))].filter(Boolean))) {
    const patient = c.beneficiary?.reference ?? '';
    coverages.set(patient, [...(coverages.get(patient) ?? []), c]);
  }
  const next = new Map<string, Coverage>();
  for (const primary of wanting) {
    const focal = primary.insurance?.find((i) => i.focal) ?? primary.insurance?.[0];
    const own = coverages.get(primary.patient?.reference ?? '') ?? [];
    const primaryCoverage = own.find((c) => `Coverage/${c.id}` === focal?.coverage?.reference);
    const date = (primary.billablePeriod?.start ?? primary.item?.[0]?.servicedDate ?? primary.created).slice(0, 10);
    const coverage = nextCoverage(own, primaryCoverage, date);
    if (coverage) next.set(primary.id!, coverage);
  }
  const payers = await readAll<Organization>(tx, [...next.values()].map((c) => c.payor?.find((p) => p.reference?.startsWith('Organization/'))?.reference ?? ''));
  for (const primary of primaries) {
    const response = latest.get(primary.id!);
    const coverage = next.get(primary.id!);
    const found = existing.get(secondaryKeyOf(primary));
    if (!response || !coverage) {
      if (found && found.status !== 'cancelled' && found.status !== 'entered-in-error') await write(tx, found, { ...found, status: 'cancelled' });
      continue;
    }
    const payer = payers.get(coverage.payor?.find((p) => p.reference?.startsWith('Organization/'))?.reference ?? '');
    await keep(tx, buildSecondaryClaim({ primary, response, coverage, payerName: payer?.name }), response, found);
  }
}

/** Creates the secondary Claim, or writes the existing one again when what the primary's adjudication says changed. */
async function keep(tx: Repository, built: Claim, response: ClaimResponse, existing: Claim | undefined): Promise<void> {
  const problems = secondaryProblems(built, response);
  if (problems.length) built.status = 'draft';
  if (!existing) {
    const created = await tx.create(withStage(built, deriveStage(built, [])));
    if (problems.length) await review(tx, { ...built, id: created.stored.id }, problems);
    return;
  }
  // The sendings and stage recorded on the existing one stay; its content is what the primary's adjudication says now.
  const next: Claim = { ...built, id: existing.id, extension: [...(built.extension ?? []), ...(existing.extension ?? []).filter(isCycleExtension)] };
  if (fingerprintOf(next) === fingerprintOf(existing) && next.status === existing.status) return;
  await write(tx, existing, next);
  if (problems.length) await review(tx, next, problems);
}

/** Writes a new version of the secondary Claim with the stage it now has. */
async function write(tx: Repository, existing: Claim, next: Claim): Promise<void> {
  const responses = await searchEach<ClaimResponse>(tx, 'ClaimResponse', 'request', [`Claim/${existing.id}`]);
  const { meta: _meta, ...resource } = withStage(next, deriveStage(next, responses));
  await tx.update(resource);
}

async function review(tx: Repository, claim: Claim, problems: readonly string[]): Promise<void> {
  await openTask(tx, { code: 'secondary-claim-review', claim, description: `Secondary claim Claim/${claim.id} to ${claim.insurer?.display ?? claim.insurer?.reference} is held in draft: ${problems.join('; ')}.` }, new Date().toISOString());
}
