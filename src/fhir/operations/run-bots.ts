/**
 * $run-bots: POST [type]/[id]/$run-bots runs every bot for the current version of a resource as if it had just been
 * written (DESIGN §6): after a bot failed on a write, or to refresh findings that depend on other resources. Its
 * actions are applied in one transaction like a write's. The answer is an OperationOutcome with every issue the bots
 * reported (open findings, failures), 200 whenever the bots ran.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { FhirHandler } from '../types.js';
import { botRunnerOf } from '../../bots/open.js';
import { notFound } from '../outcomes.js';

export const runBots: FhirHandler = async (_req, ctx, { type, id }) => {
  const runner = botRunnerOf(ctx.repo);
  if (!runner || runner.bots.length === 0) throw new OperationOutcomeError(notFound('No bots are loaded on this server'));
  const { ran, issues } = await ctx.repo.transaction(async (tx) => {
    const current = await tx.read(type, id);
    const ids = await runner.rerun(tx, [current]);
    const all: OperationOutcomeIssue[] = [];
    for (const list of tx.findings.values()) for (const issue of list) if (!all.includes(issue)) all.push(issue);
    return { ran: ids, issues: all };
  });
  const summary =
    ran.length === 0
      ? `No bot's trigger matches ${type}/${id}: nothing ran`
      : `Ran ${ran.join(', ')} for ${type}/${id}: ${issues.length === 0 ? 'nothing to report' : `${issues.length} issue(s)`}`;
  const resource: OperationOutcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: summary } }, ...issues] };
  return { status: 200, resource };
};
