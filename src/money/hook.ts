/**
 * Keeping the ledger current (src/money/README.md): a WriteHook run at the end of every write transaction, after the
 * bots and before the materialised views, inside the same transaction. Each Claim, ClaimResponse and
 * PaymentReconciliation written replaces its postings; each claim they touch has its sums recomputed from its
 * postings, so a balance is always the sum of what is posted, and commits with the write or not at all. An
 * adjudicated (or self-pay) claim whose balances reach 0 moves to stage `closed` (and back when a later posting
 * reopens it); an Invoice whose claims the patient no longer owes on becomes `balanced`. Cost with none of those types
 * written: one pass over the transaction's changes.
 */
import type { Claim, ClaimResponse, Coverage, Invoice, PaymentReconciliation } from '@medplum/fhirtypes';
import type { Repository, StoredResource, WriteHook } from '../repo/repository.js';
import { deriveStage, stageOf, submissionsOf, withStage } from '../billing/stage.js';
import { claimPostings, idIn, isSelfPay, remittancePostings, type Posting } from './postings.js';
import { claimsPostedBy, dayOf, deleteClaimRow, readClaimRow, recomputeClaim, replacePostings, setStage, sumPostings, writeClaimRow, type Balances } from './ledger.js';
import { invoiceClaims, paymentPostings } from './allocate.js';
import { lockKey, lockUntilCommit } from '../repo/locks.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

const TYPES = new Set(['Claim', 'ClaimResponse', 'PaymentReconciliation']);
const LEDGER_LOCK = lockKey('money-ledger');

/** Orders writers of the ledger (and readers that decide from it what to write: $invoice, $pay) until commit. */
export async function lockLedger(tx: Repository): Promise<void> {
  await lockUntilCommit(tx, LEDGER_LOCK);
}

export class MoneyLedger implements WriteHook {
  async afterWrite(tx: Repository): Promise<void> {
    await this.post(tx, tx.changes);
  }

  /**
   * Replaces the postings of these resources (the latest of each) and recomputes the claims they touch. The write
   * hook gives a transaction's changes; `stride money rebuild` (rebuild.ts) gives every stored resource, page by page.
   */
  async post(tx: Repository, changes: Iterable<StoredResource>): Promise<void> {
    const latest = new Map<string, StoredResource>();
    for (const c of changes) {
      if (!TYPES.has(c.resourceType)) continue;
      const key = `${c.resourceType}/${c.id}`;
      latest.delete(key);
      latest.set(key, c);
    }
    if (latest.size === 0) return;
    // Sums are recomputed from the postings this transaction sees: on PostgreSQL (READ COMMITTED, several writers) two
    // transactions posting to one claim would each miss the other's posting. One lock, held to commit, orders the
    // ledger's writers (no deadlock: it is the only one); SQLite serialises writes already.
    await lockLedger(tx);
    const touched = new Set<string>();
    const invoices = new Set<string>();
    for (const c of latest.values()) {
      const resource = c.deleted ? undefined : (c.resource ?? parseJsonKeepingDecimals(c.json));
      for (const id of await claimsPostedBy(tx.db, c.resourceType, c.id)) touched.add(id);
      let postings: Posting[] = [];
      if (c.resourceType === 'Claim') postings = await this.claimRow(tx, c.id, resource as Claim | undefined);
      else if (c.resourceType === 'ClaimResponse') postings = resource ? remittancePostings(resource as ClaimResponse) : [];
      else if (resource) {
        // A payment's allocation reads what is owed without the payment's own earlier postings.
        await replacePostings(tx.db, c.resourceType, c.id, []);
        const paid = await paymentPostings(tx, resource as PaymentReconciliation);
        postings = paid.postings;
        for (const id of paid.invoices) invoices.add(id);
      }
      await replacePostings(tx.db, c.resourceType, c.id, postings);
      for (const p of postings) touched.add(p.claimId);
    }
    for (const id of touched) {
      const balances = await recomputeClaim(tx.db, id);
      if (balances) await this.followStage(tx, id, balances);
    }
    for (const id of invoices) await this.followInvoice(tx, id);
  }

  /** A Claim's row (attributes) and postings: none unless it is active. */
  private async claimRow(tx: Repository, id: string, claim: Claim | undefined): Promise<Posting[]> {
    if (!claim || claim.status !== 'active') {
      await deleteClaimRow(tx.db, id);
      return [];
    }
    const focal = claim.insurance?.find((i) => i.focal) ?? claim.insurance?.[0];
    const coverageId = idIn(focal?.coverage?.reference, 'Coverage');
    const stored = coverageId ? await tx.readCurrent('Coverage', coverageId) : undefined;
    const coverage = stored && !stored.deleted ? (parseJsonKeepingDecimals(stored.json) as Coverage) : undefined;
    const selfPay = isSelfPay(claim, coverage);
    const firstService = claim.billablePeriod?.start ?? claim.item?.[0]?.servicedDate ?? claim.created;
    await writeClaimRow(tx.db, {
      claimId: id,
      patient: claim.patient?.reference ?? '',
      payer: selfPay ? 'self-pay' : (claim.insurer?.reference ?? ''),
      provider: claim.provider?.reference ?? '',
      stage: stageOf(claim) ?? 'ready',
      serviceDay: dayOf(firstService) ?? 0,
      submissionDay: dayOf(submissionsOf(claim)[0]?.sent),
    });
    return claimPostings(claim, selfPay);
  }

  /**
   * A claim settled to 0 is closed once it is adjudicated (deriveStage with its balances says so); a closed one that
   * owes again goes back to the stage deriveStage gives. Other stage changes are left to whoever writes the Claim.
   */
  private async followStage(tx: Repository, id: string, balances: Balances): Promise<void> {
    const settled = balances.payerBalance === 0 && balances.patientBalance === 0;
    // A claim that bills nothing (no total: a client's claim of another kind) has nothing to collect or close.
    if (settled && balances.billed === 0) return;
    const stored = await tx.readCurrent('Claim', id);
    if (!stored || stored.deleted) return;
    const claim = (stored.resource ?? parseJsonKeepingDecimals(stored.json)) as Claim;
    const current = stageOf(claim);
    if (settled === (current === 'closed')) return;
    // A self-pay claim goes to no payer: paid in full by the patient, it is closed.
    const selfPay = (await readClaimRow(tx.db, id))?.payer === 'self-pay';
    const found = selfPay ? undefined : await tx.search({ resourceType: 'ClaimResponse', params: { request: [`Claim/${id}`] }, count: 1000, offset: 0, total: 'none' });
    const next = selfPay && settled ? 'closed' : deriveStage(claim, (found?.rows ?? []).map((r) => parseJsonKeepingDecimals(r.content) as ClaimResponse), balances);
    if (next === current || (settled && next !== 'closed')) return;
    await tx.update(withStage(claim, next), { ifMatch: stored.versionId });
    await setStage(tx.db, id, next);
  }

  /** issued <-> balanced as the patient's balance on the Invoice's claims reaches 0 or not. */
  private async followInvoice(tx: Repository, id: string): Promise<void> {
    const stored = await tx.readCurrent('Invoice', id);
    if (!stored || stored.deleted) return;
    const invoice = parseJsonKeepingDecimals(stored.json) as Invoice;
    let owed = 0;
    for (const claimId of invoiceClaims(invoice)) owed += Math.max(0, (await sumPostings(tx.db, claimId)).patientBalance);
    const status = owed === 0 ? 'balanced' : 'issued';
    if (invoice.status !== status && (invoice.status === 'issued' || invoice.status === 'balanced')) await tx.update({ ...invoice, status }, { ifMatch: stored.versionId });
  }
}
