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

const MOST = 1000;

export class SecondaryClaims implements WriteHook {
  async afterWrite(tx: Repository): Promise<void> {
    const primaries = new Set<string>();
    for (const c of tx.changes) {
      if (c.resourceType !== 'ClaimResponse' || c.deleted) continue;
      const r = parse<ClaimResponse>(c);
      const id = r.request?.reference?.startsWith('Claim/') ? r.request.reference.slice(6) : undefined;
      if (id && remittanceSource(r)) primaries.add(id);
    }
    for (const id of primaries) await follow(tx, id);
  }
}

function parse<T>(c: StoredResource): T {
  return (c.resource ?? JSON.parse(c.json)) as T;
}

async function search<T>(tx: Repository, resourceType: string, params: Record<string, string[]>): Promise<T[]> {
  const found = await tx.search({ resourceType, params, count: MOST, offset: 0, total: 'none' });
  return found.rows.map((r) => JSON.parse(r.content) as T);
}

async function readAs<T>(tx: Repository, reference: string | undefined): Promise<T | undefined> {
  const m = /^([A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(reference ?? '');
  if (!m) return undefined;
  const stored = await tx.readCurrent(m[1]!, m[2]!);
  return stored && !stored.deleted ? (JSON.parse(stored.json) as T) : undefined;
}

async function follow(tx: Repository, primaryId: string): Promise<void> {
  const primary = await readAs<Claim>(tx, `Claim/${primaryId}`);
  if (!primary || isSecondaryClaim(primary)) return;
  const latest = (await search<ClaimResponse>(tx, 'ClaimResponse', { request: [`Claim/${primaryId}`] }))
    .filter((r) => r.status === 'active' && remittanceSource(r))
    .sort((a, b) => (a.created < b.created ? 1 : a.created > b.created ? -1 : 0))[0];
  const [existing] = await search<Claim>(tx, 'Claim', { identifier: [`${SECONDARY_KEY}|${secondaryKeyOf(primary).replace(/([\\,|$])/g, '\\$1')}`] });
  let coverage: Coverage | undefined;
  if (latest && primary.status === 'active' && wantsSecondary(latest)) {
    const focal = primary.insurance?.find((i) => i.focal) ?? primary.insurance?.[0];
    const primaryCoverage = await readAs<Coverage>(tx, focal?.coverage?.reference);
    const coverages = await search<Coverage>(tx, 'Coverage', { beneficiary: [primary.patient?.reference ?? ''] });
    const date = (primary.billablePeriod?.start ?? primary.item?.[0]?.servicedDate ?? primary.created).slice(0, 10);
    coverage = nextCoverage(coverages, primaryCoverage, date);
  }
  if (!latest || !coverage) {
    if (existing && existing.status !== 'cancelled' && existing.status !== 'entered-in-error') await write(tx, existing, { ...existing, status: 'cancelled' });
    return;
  }
  const payer = await readAs<Organization>(tx, coverage.payor?.find((p) => p.reference?.startsWith('Organization/'))?.reference);
  const built = buildSecondaryClaim({ primary, response: latest, coverage, payerName: payer?.name });
  const problems = secondaryProblems(built, latest);
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
  const responses = await search<ClaimResponse>(tx, 'ClaimResponse', { request: [`Claim/${existing.id}`] });
  const { meta: _meta, ...resource } = withStage(next, deriveStage(next, responses));
  await tx.update(resource);
}

async function review(tx: Repository, claim: Claim, problems: readonly string[]): Promise<void> {
  await openTask(tx, { code: 'secondary-claim-review', claim, description: `Secondary claim Claim/${claim.id} to ${claim.insurer?.display ?? claim.insurer?.reference} is held in draft: ${problems.join('; ')}.` }, new Date().toISOString());
}
