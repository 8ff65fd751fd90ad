/**
 * A paper EOB keyed in by a biller (issue 21 §1): a ClaimResponse a client writes in the shape of the guide's
 * remittance contract (profiles/README.md §11: `total` submitted and benefit, `payment.amount`, a Claim as `request`)
 * is posted like an 835's, inside the client's own write transaction (a WriteHook, after the bots):
 * - it must balance, as an 835 must: total.submitted − payment.amount = every adjustment (claim, item and addItem
 *   level), total.benefit = payment.amount, each item's submitted − benefit = its adjustments, each itemSequence an item
 *   of the Claim; else the whole write is refused (400) and nothing is stored;
 * - its source is marked `manual` (meta.tag, written on a new version when the client left it out; an untagged one
 *   whose Claim Stride does not have is another system's history, as a bulk import brings, and is left alone);
 * - the claim's earlier active remittance is cancelled (the EOB supersedes it), the claim's stage follows, and each
 *   denied or underpaid item opens a work-queue Task with its CARC text.
 * A PaymentReconciliation a client writes with the `manual` tag must have details that add up to its paymentAmount.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, PaymentReconciliation } from '@medplum/fhirtypes';
import type { Repository, StoredResource, WriteHook } from '../repo/repository.js';
import { badRequest } from '../fhir/outcomes.js';
import { ADJUDICATION_SYSTEM, ADJUSTMENT_GROUP_SYSTEM, REMITTANCE_SOURCE, itemVerdict, remittanceSource } from '../billing/remit-stage.js';
import { deriveStage, withStage } from '../billing/stage.js';
import { carcText } from '../billing/x12/adjustment-codes.js';
import { money as text } from '../billing/x12/remittance-balance.js';
import { openTask } from './remit-records.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

const cents = (v: number | undefined) => Math.round((v ?? 0) * 100);
const isRemittanceShape = (r: ClaimResponse) => r.status === 'active' && r.request?.reference?.startsWith('Claim/') && r.payment?.amount !== undefined && r.total?.some((t) => t.category.coding?.some((c) => c.code === 'submitted'));

export class ManualRemittances implements WriteHook {
  async afterWrite(tx: Repository): Promise<void> {
    const written = [...tx.changes];
    for (const change of written) {
      if (change.deleted) continue;
      if (change.resourceType === 'ClaimResponse') await this.postResponse(tx, change);
      else if (change.resourceType === 'PaymentReconciliation') checkReconciliation(change);
    }
  }

  private async postResponse(tx: Repository, change: StoredResource): Promise<void> {
    const response = (change.resource ?? parseJsonKeepingDecimals(change.json)) as ClaimResponse;
    const source = remittanceSource(response);
    if (source === 'x12-835' || !isRemittanceShape(response)) return;
    const claimId = response.request!.reference!.slice(6);
    const stored = await tx.readCurrent('Claim', claimId);
    if (!stored || stored.deleted) {
      // Untagged, for a Claim Stride does not have: another system's history (a bulk import), left as written.
      if (!source) return;
      throw refuse(`its request ${response.request!.reference} is not a Claim Stride has`);
    }
    const claim = parseJsonKeepingDecimals(stored.json) as Claim;
    checkBalance(response, claim);
    let posted = response;
    if (!source) {
      const { meta, ...rest } = response;
      const tagged = await tx.update({ ...rest, meta: { tag: [...(meta?.tag ?? []), { system: REMITTANCE_SOURCE, code: 'manual' }] } } as ClaimResponse);
      posted = tagged.resource as ClaimResponse;
    }
    const others = (await tx.search({ resourceType: 'ClaimResponse', params: { request: [`Claim/${claimId}`] }, count: 1000, offset: 0, total: 'none' })).rows.map((r) => parseJsonKeepingDecimals(r.content) as ClaimResponse);
    const responses: ClaimResponse[] = [];
    for (const other of others) {
      if (other.id !== posted.id && other.status === 'active' && remittanceSource(other)) {
        const { meta, ...rest } = other;
        const cancelled = await tx.update({ ...rest, meta: { tag: meta?.tag }, status: 'cancelled', disposition: `${other.disposition ?? ''} — superseded by the keyed-in EOB ClaimResponse/${posted.id}`.slice(0, 1000) } as ClaimResponse);
        responses.push(cancelled.resource as ClaimResponse);
      } else responses.push(other.id === posted.id ? posted : other);
    }
    if (!responses.some((r) => r.id === posted.id)) responses.push(posted);
    const staged = withStage(claim, deriveStage(claim, responses));
    if (JSON.stringify(staged.extension) !== JSON.stringify(claim.extension)) {
      const { meta: _meta, ...resource } = staged;
      await tx.update(resource);
    }
    const at = new Date().toISOString();
    for (const item of [...(posted.item ?? []), ...(posted.addItem ?? [])]) {
      const verdict = itemVerdict(item.adjudication ?? []);
      if (verdict === 'paid') continue;
      const which = 'itemSequence' in item && typeof item.itemSequence === 'number' ? `item ${item.itemSequence}` : 'an added line';
      await openTask(tx, { code: verdict === 'denied' ? 'remit-line-denied' : 'remit-line-underpaid', claim, response: `ClaimResponse/${posted.id}`, description: `Claim/${claimId}, keyed-in EOB ClaimResponse/${posted.id}: ${which} ${verdict}. ${adjustmentsText(item.adjudication ?? [])}` }, at);
    }
  }
}

function refuse(why: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(`The remittance (ClaimResponse) does not post, nothing was stored: ${why}`));
}

const amountOf = (list: readonly ClaimResponseItemAdjudication[] | undefined, code: string) => (list ?? []).filter((a) => a.category.coding?.some((c) => c.system === ADJUDICATION_SYSTEM && c.code === code)).reduce((s, a) => s + cents(a.amount?.value), 0);
const adjustmentsOf = (list: readonly ClaimResponseItemAdjudication[] | undefined) => (list ?? []).filter((a) => a.category.coding?.some((c) => c.system === ADJUSTMENT_GROUP_SYSTEM)).reduce((s, a) => s + cents(a.amount?.value), 0);

/** The 835's balancing rules on the FHIR shape (remittance-balance.ts). */
function checkBalance(r: ClaimResponse, claim: Claim): void {
  const submitted = amountOf(r.total, 'submitted');
  const benefit = amountOf(r.total, 'benefit');
  const paid = cents(r.payment?.amount?.value);
  if (benefit !== paid) throw refuse(`total benefit ${text(benefit)} is not payment.amount ${text(paid)}`);
  const items = [...(r.item ?? []), ...(r.addItem ?? [])];
  const adjusted = adjustmentsOf(r.adjudication) + items.reduce((s, i) => s + adjustmentsOf(i.adjudication), 0);
  if (submitted - adjusted !== paid) throw refuse(`total submitted ${text(submitted)} less the adjustments ${text(adjusted)} is ${text(submitted - adjusted)}, not the payment ${text(paid)}`);
  const sequences = new Set((claim.item ?? []).map((i) => i.sequence));
  for (const item of r.item ?? []) {
    if (!sequences.has(item.itemSequence)) throw refuse(`item ${item.itemSequence} is not an item of Claim/${claim.id}`);
    const lineSubmitted = amountOf(item.adjudication, 'submitted');
    const lineBenefit = amountOf(item.adjudication, 'benefit');
    if (lineSubmitted - adjustmentsOf(item.adjudication) !== lineBenefit) throw refuse(`item ${item.itemSequence}: submitted ${text(lineSubmitted)} less its adjustments ${text(adjustmentsOf(item.adjudication))} is not its benefit ${text(lineBenefit)}`);
  }
}

function checkReconciliation(change: StoredResource): void {
  const p = (change.resource ?? parseJsonKeepingDecimals(change.json)) as PaymentReconciliation;
  if (!p.meta?.tag?.some((t) => t.system === REMITTANCE_SOURCE && t.code === 'manual') || p.status !== 'active') return;
  const details = (p.detail ?? []).reduce((s, d) => s + cents(d.amount?.value), 0);
  if (details !== cents(p.paymentAmount?.value)) throw new OperationOutcomeError(badRequest(`The payment (PaymentReconciliation) does not post, nothing was stored: its details add up to ${text(details)}, not its paymentAmount ${text(cents(p.paymentAmount?.value))}`));
}

function adjustmentsText(list: readonly ClaimResponseItemAdjudication[]): string {
  return list
    .filter((a) => a.category.coding?.some((c) => c.system === ADJUSTMENT_GROUP_SYSTEM))
    .map((a) => {
      const reason = a.reason?.coding?.[0]?.code ?? '';
      return `${a.category.coding![0]!.code}-${reason} ${(a.amount?.value ?? 0).toFixed(2)}: ${carcText(reason)}`;
    })
    .join('; ');
}
