/**
 * A claim's timeline (issue 20 §5): the steps of its revenue cycle, oldest first, derived from resources that exist
 * anyway: each version of the Claim whose stage changed (and who wrote it: the Provenance of that version, else the
 * client), each sending (its batch DocumentReference), each ClaimResponse answering it (acknowledgment, remittance) and
 * each work-queue Task about it. Nothing is kept for it apart from those resources.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Claim, ClaimResponse, Parameters, ParametersParameter, Provenance, Task } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import { readHistory } from '../repo/history.js';
import { notFound } from '../fhir/outcomes.js';
import { STAGE_SYSTEM, stageOf, submissionsOf, type ClaimStage } from '../billing/stage.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

interface Step {
  at: string;
  stage?: ClaimStage;
  source?: string;
  by: string;
  text: string;
}

/** Versions, responses, tasks read per claim: a claim's cycle has a few dozen steps. */
const MOST = 1000;

export async function claimTimeline(repo: Repository, id: string): Promise<Parameters> {
  const history = await readHistory(repo.db, { type: 'Claim', id }, { count: MOST, offset: 0 });
  if (history.rows.length === 0) throw new OperationOutcomeError(notFound(`Claim/${id} not found`));
  const versions = history.rows.filter((r) => !Number(r.deleted)).map((r) => ({ version: Number(r.version_id), at: new Date(Number(r.last_updated)).toISOString(), claim: parseJsonKeepingDecimals(r.content) as Claim })).reverse();
  const [provenances, responses, tasks] = await Promise.all([
    search<Provenance>(repo, 'Provenance', { target: [`Claim/${id}`] }),
    search<ClaimResponse>(repo, 'ClaimResponse', { request: [`Claim/${id}`] }),
    search<Task>(repo, 'Task', { focus: [`Claim/${id}`] }),
  ]);
  const byVersion = new Map<number, string>();
  for (const p of provenances) {
    for (const t of p.target) {
      const m = new RegExp(`^Claim/${id}/_history/(\\d+)$`).exec(t.reference ?? '');
      if (m) byVersion.set(Number(m[1]), p.agent[0]?.who?.display ?? p.agent[0]?.who?.identifier?.value ?? 'Stride');
    }
  }
  const steps: Step[] = [];
  let last: ClaimStage | undefined;
  let sendings = 0;
  for (const v of versions) {
    const stage = stageOf(v.claim) ?? (v.claim.status === 'draft' ? 'draft' : v.claim.status === 'active' ? 'ready' : 'closed');
    const sent = submissionsOf(v.claim);
    const by = byVersion.get(v.version) ?? (sent.length > sendings ? 'Stride operation $submit' : 'the client');
    if (sent.length > sendings) {
      const s = sent.at(-1)!;
      steps.push({ at: s.sent || v.at, stage, source: s.batch, by, text: `Sent in an 837P batch (${s.frequency === '1' ? 'original' : s.frequency === '7' ? 'replacement' : 'void'}, transaction set ${s.transaction ?? '?'}), version ${v.version}` });
    } else if (stage !== last) {
      steps.push({ at: v.at, stage, source: `Claim/${id}/_history/${v.version}`, by, text: `${describe(stage)} (version ${v.version}, status ${v.claim.status})` });
    }
    sendings = sent.length;
    last = stage;
  }
  for (const r of responses) {
    const what = r.outcome === 'error' ? 'Rejected' : r.outcome === 'queued' ? 'Accepted for adjudication' : 'Adjudicated';
    steps.push({ at: r.created, source: `ClaimResponse/${r.id}`, by: 'an acknowledgment or remittance ($process-x12)', text: `${what}: ${r.disposition ?? r.outcome}` });
  }
  for (const t of tasks) steps.push({ at: t.authoredOn ?? t.meta?.lastUpdated ?? '', source: `Task/${t.id}`, by: 'Stride', text: `Work-queue task ${t.code?.coding?.[0]?.code ?? ''} (${t.status}): ${t.description ?? ''}` });
  steps.sort((a, b) => (a.at < b.at ? -1 : a.at > b.at ? 1 : 0));
  const current = versions.at(-1)!.claim;
  return {
    resourceType: 'Parameters',
    parameter: [
      { name: 'claim', valueReference: { reference: `Claim/${id}` } },
      ...(stageOf(current) ? [{ name: 'stage', valueCoding: { system: STAGE_SYSTEM, code: stageOf(current) } }] : []),
      ...steps.map(toParameter),
    ],
  };
}

function toParameter(step: Step): ParametersParameter {
  return {
    name: 'step',
    part: [
      { name: 'date', valueInstant: step.at },
      ...(step.stage ? [{ name: 'stage', valueCoding: { system: STAGE_SYSTEM, code: step.stage } }] : []),
      ...(step.source ? [{ name: 'source', valueReference: { reference: step.source } }] : []),
      { name: 'by', valueString: step.by },
      { name: 'text', valueString: step.text },
    ],
  };
}

function describe(stage: ClaimStage): string {
  const texts: Record<ClaimStage, string> = {
    draft: 'Held as a draft',
    ready: 'Ready to send',
    submitted: 'Submitted',
    rejected: 'Rejected',
    accepted: 'Accepted by the payer',
    paid: 'Paid',
    'partially-paid': 'Partially paid',
    denied: 'Denied',
    closed: 'Closed',
  };
  return texts[stage];
}

async function search<T>(repo: Repository, resourceType: string, params: Record<string, string[]>): Promise<T[]> {
  const found = await repo.search({ resourceType, params, count: MOST, offset: 0, total: 'none' });
  return found.rows.map((r) => parseJsonKeepingDecimals(r.content) as T);
}
