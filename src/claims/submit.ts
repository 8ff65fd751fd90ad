/**
 * Claims out the door (issue 20 §1-3): every ready Claim (or the ones named) goes into one 837P interchange per
 * receiver (payer), one transaction set per billing provider, with control numbers from the database; each file is
 * stored (files.ts) and each Claim records its sending (src/billing/stage.ts) and becomes `submitted`. One $submit runs
 * at a time across processes (a transaction lock), and the claims it sends are row-locked and read again first, so
 * that a claim goes into exactly one file even when two processes submit at once. A dry run does all of it in a
 * transaction that is rolled back: the same answer, nothing recorded, no control number used.
 */
import type { Claim, ClaimResponse, Organization, Resource } from '@medplum/fhirtypes';
import { X12Parser } from 'node-x12';
import type { Repository } from '../repo/repository.js';
import { lockInOrder, lockKey, lockUntilCommit } from '../repo/locks.js';
import { SYSTEMS } from '../billing/codes.js';
import { createLookup, type ResourceLookup } from '../billing/session.js';
import { deriveStage, fingerprintOf, nextFrequency, payerClaimNumber, submissionExtension, submissionsOf, withStage, type ClaimStage, type Frequency } from '../billing/stage.js';
import { X12Error, batchToX12837P, batchTransactions, type BatchClaim, type BatchControlNumbers, type X12Parties } from '../billing/x12/claim-837p.js';
import { patientControlNumber } from '../billing/x12/format.js';
import { forEachReference } from '../fhir/references.js';
import { takeControlNumbers } from './control-numbers.js';
import { storeFile } from './files.js';
import { parseStored } from '../bots/context.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export interface SubmitRequest {
  /** Only claims to this payer (Organization). */
  payer?: string;
  /** Only claims of this billing provider. */
  provider?: string;
  /** Just these claims; a named claim that is not ready is refused with the reason, the others go on. */
  claims?: string[];
  /** Only claims whose services end on or before this date. */
  through?: string;
  usage: 'T' | 'P';
  dryRun: boolean;
}

export interface SubmitterSettings {
  senderId: string;
  name: string;
  contactName: string;
  phone?: string;
}

export interface SubmittedFile {
  receiver: string;
  receiverName: string;
  interchange: number;
  group: number;
  transactions: number[];
  claims: Array<{ claim: string; frequency: Frequency }>;
  documentReference?: string;
  binary?: string;
  /** The file itself (a dry run's answer carries it, since nothing is stored). */
  text: string;
}

export interface SubmitResult {
  files: SubmittedFile[];
  refused: Array<{ claim: string; reason: string }>;
}

class DryRun extends Error {
  constructor(readonly result: SubmitResult) {
    super('$submit dry run (rolled back)');
  }
}

/** Claims searched per page when selecting the ready ones. */
const PAGE = 1000;

export async function submitClaims(repo: Repository, request: SubmitRequest, submitter: SubmitterSettings, now: Date): Promise<SubmitResult> {
  try {
    return await repo.transaction(async (tx) => {
      await lockUntilCommit(tx, lockKey('x12-submit'));
      const result = await submitIn(tx, request, submitter, now);
      if (request.dryRun) throw new DryRun(result);
      return result;
    });
  } catch (err) {
    if (err instanceof DryRun) return err.result;
    throw err;
  }
}

async function submitIn(tx: Repository, request: SubmitRequest, submitter: SubmitterSettings, now: Date): Promise<SubmitResult> {
  const refused: SubmitResult['refused'] = [];
  const chosen = request.claims?.length ? await namedClaims(tx, request.claims, refused) : await readyClaims(tx, request);
  const claims = chosen.filter(({ claim }) => matches(claim, request));
  const resolve = await lookupFor(tx, claims.map((c) => c.claim));
  const files: SubmittedFile[] = [];
  for (const [receiver, list] of byReceiver(claims, resolve)) {
    const payer = resolve(receiver) as Organization | undefined;
    const batch = sendable(list, resolve, submitter, payer, now, request);
    const file = await writeFile(tx, batch, receiver, payer, now, request, refused);
    if (file) files.push(file);
  }
  return { files, refused };
}

interface Candidate {
  claim: Claim;
  responses: ClaimResponse[];
}

/** The claims whose stage is ready, read under row locks (a process submitting at the same time waits, then skips them). */
async function readyClaims(tx: Repository, request: SubmitRequest): Promise<Candidate[]> {
  const params: Record<string, string[]> = { stage: ['ready'] };
  if (request.provider) params.provider = [request.provider];
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await tx.search({ resourceType: 'Claim', params, count: PAGE, offset, total: 'none' });
    ids.push(...page.rows.map((r) => r.id));
    if (page.rows.length < PAGE) break;
  }
  await lockInOrder(tx, ids.map((id) => ({ type: 'Claim', id })));
  const claims = await readClaims(tx, ids);
  const out: Candidate[] = [];
  for (const claim of claims) {
    const responses = submissionsOf(claim).length ? await responsesTo(tx, claim) : [];
    // Read again under the lock: another process may have sent it meanwhile.
    if (deriveStage(claim, responses) === 'ready') out.push({ claim, responses });
  }
  return out;
}

/** The claims named, each ready (or rejected: sent again when named) or refused with the reason. */
async function namedClaims(tx: Repository, refs: readonly string[], refused: SubmitResult['refused']): Promise<Candidate[]> {
  const ids = [...new Set(refs.map((r) => /^Claim\/([A-Za-z0-9\-.]{1,64})$/.exec(r)?.[1] ?? ''))];
  for (const ref of refs) if (!/^Claim\/[A-Za-z0-9\-.]{1,64}$/.test(ref)) refused.push({ claim: ref, reason: 'not a Claim reference (Claim/[id])' });
  await lockInOrder(tx, ids.filter(Boolean).map((id) => ({ type: 'Claim', id })));
  const found = new Map((await readClaims(tx, ids.filter(Boolean))).map((c) => [c.id, c]));
  const out: Candidate[] = [];
  for (const id of ids.filter(Boolean)) {
    const claim = found.get(id);
    if (!claim) {
      refused.push({ claim: `Claim/${id}`, reason: 'no such Claim' });
      continue;
    }
    const responses = await responsesTo(tx, claim);
    const stage = deriveStage(claim, responses);
    if (stage === 'ready' || stage === 'rejected') out.push({ claim, responses });
    else refused.push({ claim: `Claim/${id}`, reason: notReady(stage, claim) });
  }
  return out;
}

function notReady(stage: ClaimStage, claim: Claim): string {
  const last = submissionsOf(claim).at(-1);
  switch (stage) {
    case 'draft':
      return 'the Claim is a draft, held by its billing or documentation findings: fix them (its DetectedIssues) and it becomes ready';
    case 'closed':
      return 'the Claim is closed: nothing is left to send (cancelled before it was sent, or voided, or settled)';
    default:
      return `the Claim was sent in ${last?.batch ?? 'a batch'} and is ${stage}; it is sent again only once it changes (as a replacement) or is cancelled (as a void)`;
  }
}

function matches(claim: Claim, request: SubmitRequest): boolean {
  if (request.provider && claim.provider?.reference !== request.provider) return false;
  if (request.payer && claim.insurer?.reference !== request.payer) return false;
  const end = claim.billablePeriod?.end ?? claim.billablePeriod?.start ?? claim.created;
  return !request.through || (end ?? '').slice(0, 10) <= request.through;
}

async function readClaims(tx: Repository, ids: readonly string[]): Promise<Claim[]> {
  const rows = await tx.readCurrentMany(ids.map((id) => `Claim/${id}`));
  return ids.map((id) => rows.get(`Claim/${id}`)).filter((r) => r && !r.deleted).map((r) => parseJsonKeepingDecimals(r!.json) as Claim);
}

async function responsesTo(tx: Repository, claim: Claim): Promise<ClaimResponse[]> {
  const found = await tx.search({ resourceType: 'ClaimResponse', params: { request: [`Claim/${claim.id}`] }, count: 1000, offset: 0, total: 'none' });
  return found.rows.map((r) => parseJsonKeepingDecimals(r.content) as ClaimResponse);
}

/** What the 837P needs of each claim: coverage, patient, subscriber, payer, billing and rendering providers. */
async function lookupFor(tx: Repository, claims: readonly Claim[]): Promise<ResourceLookup> {
  const found = new Map<string, Resource>();
  let level: Resource[] = [...claims];
  for (let hop = 0; hop < 2 && level.length > 0; hop++) {
    const wanted = new Set<string>();
    for (const r of level) forEachReference(r, (ref) => /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(ref) && !found.has(ref) && wanted.add(ref));
    const rows = await tx.readCurrentMany([...wanted]);
    level = [];
    for (const [key, row] of rows) {
      if (!row || row.deleted) continue;
      const resource = parseStored(row.resourceType, row.id, row.versionId, row.json);
      found.set(key, resource);
      if (!key.startsWith('Claim/')) level.push(resource);
    }
  }
  return createLookup(found);
}

/** The payer each claim goes to: Claim.insurer, else the focal Coverage's payor. */
function byReceiver(claims: readonly Candidate[], resolve: ResourceLookup): Map<string, Candidate[]> {
  const groups = new Map<string, Candidate[]>();
  for (const c of [...claims].sort((a, b) => compare(a.claim.provider?.reference ?? '', b.claim.provider?.reference ?? '') || compare(a.claim.id ?? '', b.claim.id ?? ''))) {
    const coverage = resolve((c.claim.insurance?.find((i) => i.focal) ?? c.claim.insurance?.[0])?.coverage?.reference ?? '') as { payor?: { reference?: string }[] } | undefined;
    const receiver = c.claim.insurer?.reference ?? coverage?.payor?.[0]?.reference ?? '';
    groups.set(receiver, [...(groups.get(receiver) ?? []), c]);
  }
  return groups;
}

function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

interface Batch {
  /** The claims to send; writeText drops those the 837P cannot carry. */
  claims: Array<BatchClaim & { responses: ClaimResponse[] }>;
  parties: X12Parties;
  resolve: ResourceLookup;
}

/** The claims of one receiver, with the frequency code and payer claim number each goes with. */
function sendable(list: readonly Candidate[], resolve: ResourceLookup, submitter: SubmitterSettings, payer: Organization | undefined, now: Date, request: SubmitRequest): Batch {
  const parties = partiesFor(submitter, payer, list, resolve, now, request);
  const claims = list.map(({ claim, responses }) => ({ claim, responses, frequency: nextFrequency(claim, responses), payerClaimNumber: payerClaimNumber(responses) }));
  return { claims, parties, resolve };
}

/**
 * The file's text. When a claim has a gap the 837P cannot be written with (no member id, a provider without an NPI),
 * each claim is tried alone to find those that do: they are refused with the reason, and the others go on.
 */
function writeText(batch: Batch, numbers: (sets: number) => BatchControlNumbers, reference: string, refused: SubmitResult['refused']): string | null {
  const attempt = (claims: Batch['claims']) => batchToX12837P(claims, batch.resolve, batch.parties, numbers(batchTransactions(claims).length), reference);
  try {
    return attempt(batch.claims);
  } catch (err) {
    if (!(err instanceof X12Error)) throw err;
  }
  const ok = batch.claims.filter((c) => {
    try {
      batchToX12837P([c], batch.resolve, batch.parties, { interchange: 1, group: 1, transactions: [1] }, 'check');
      return true;
    } catch (err) {
      if (!(err instanceof X12Error)) throw err;
      refused.push({ claim: `Claim/${c.claim.id}`, reason: `the 837P cannot be written: ${err.missing.join('; ')}` });
      return false;
    }
  });
  batch.claims = ok;
  return ok.length ? attempt(ok) : null;
}

function partiesFor(submitter: SubmitterSettings, payer: Organization | undefined, list: readonly Candidate[], resolve: ResourceLookup, now: Date, request: SubmitRequest): X12Parties {
  const provider = resolve(list[0]?.claim.provider?.reference ?? '') as Organization | undefined;
  const phone = submitter.phone ?? provider?.telecom?.find((t) => t.system === 'phone')?.value ?? '';
  return {
    senderId: submitter.senderId,
    receiverId: payer?.identifier?.find((i) => i.system === SYSTEMS.payerId)?.value ?? payer?.identifier?.[0]?.value ?? '',
    receiverName: payer?.name ?? '',
    submitter: { name: submitter.name, contactName: submitter.contactName, phone },
    createdAt: localDateTime(now),
    usage: request.usage,
  };
}

/** `YYYY-MM-DDTHH:MM` in UTC: the file's date and time (ISA09/10, GS04/05, BHT04/05). */
function localDateTime(now: Date): string {
  return now.toISOString().slice(0, 16);
}

/** Numbers, writes and checks the file, stores it, and records the sending on each claim. */
async function writeFile(tx: Repository, batch: Batch, receiver: string, payer: Organization | undefined, now: Date, request: SubmitRequest, refused: SubmitResult['refused']): Promise<SubmittedFile | null> {
  batch.claims = batch.claims.map((c) => ({ ...c, claim: withControlNumber(c.claim) }));
  const [interchange] = await takeControlNumbers(tx, 'interchange');
  const [group] = await takeControlNumbers(tx, 'group');
  // ST02s for every transaction set the claims could need; a claim refused below leaves a gap, never a repeat.
  let transactions = await takeControlNumbers(tx, 'transaction', batchTransactions(batch.claims).length);
  const text = writeText(batch, (sets) => ({ interchange: interchange!, group: group!, transactions: transactions.slice(0, sets) }), `B${interchange}`, refused);
  if (text === null) return null;
  transactions = transactions.slice(0, batchTransactions(batch.claims).length);
  checkWritten(text);
  const file: SubmittedFile = {
    receiver,
    receiverName: payer?.name ?? receiver,
    interchange: interchange!,
    group: group!,
    transactions,
    claims: batch.claims.map((c) => ({ claim: `Claim/${c.claim.id}`, frequency: c.frequency })),
    text,
  };
  if (request.dryRun) return file;
  const stored = await storeFile(tx, {
    kind: 'x12-837p-batch',
    text,
    at: now.toISOString(),
    description: `837P batch to ${payer?.name ?? receiver}: ${batch.claims.length} claim(s), interchange ${interchange}, usage ${request.usage}`,
    related: batch.claims.map((c) => `Claim/${c.claim.id}`),
    controlNumbers: { interchange: String(interchange).padStart(9, '0'), group: String(group), transactions: transactions.map((t) => String(t).padStart(4, '0')) },
    receiver: { reference: receiver, ...(payer?.name ? { display: payer.name } : {}) },
    operation: 'submit',
    sources: batch.claims.map((c) => `Claim/${c.claim.id}/_history/${c.claim.meta?.versionId ?? ''}`),
  });
  // The ST02 of each claim's transaction set (batchTransactions is the writer's own split).
  const setOf = new Map(batchTransactions(batch.claims).flatMap((set, i) => set.map((c) => [c.claim.id, String(transactions[i]).padStart(4, '0')] as const)));
  for (const { claim, frequency, responses } of batch.claims) {
    const record = { batch: stored.documentReference, transaction: setOf.get(claim.id), frequency, sent: now.toISOString(), fingerprint: fingerprintOf(claim) };
    const sent = { ...claim, extension: [...(claim.extension ?? []), submissionExtension(record)] };
    // Just sent as it is: submitted (a void: closed, by the rule of deriveStage).
    const staged = withStage(sent, claim.status === 'active' ? 'submitted' : deriveStage(sent, responses));
    const { meta: _meta, ...resource } = staged;
    // Stride adds only the sending record, the stage and the patient control number (withControlNumber) to a version
    // that passed validation: validating 10,000 claims again was a third of $submit's time (test/claims/submit.test.ts
    // validates a sent Claim through $validate).
    await tx.update(resource, { ifMatch: Number(claim.meta?.versionId), ownChange: true });
  }
  return { ...file, ...stored };
}

/** A claim sent carries its patient control number (CLM01) as an identifier, so acknowledgments find it. */
function withControlNumber(claim: Claim): Claim {
  if (claim.identifier?.some((i) => i.system === SYSTEMS.patientControlNumber)) return claim;
  return { ...claim, identifier: [...(claim.identifier ?? []), { system: SYSTEMS.patientControlNumber, value: patientControlNumber(claim) }] };
}

/** Every file written is parsed back by node-x12 in strict mode (ISA width, SE/GE/IEA counts, control numbers). */
function checkWritten(text: string): void {
  try {
    new X12Parser(true).parse(text);
  } catch (err) {
    // Stride's own defect, not the request's: a 500, and the transaction (nothing stored) is rolled back.
    throw new Error(`Stride wrote an 837P that does not parse, nothing was stored: ${(err as Error).message}`);
  }
}
