/**
 * $validate runs the bots' rules too (issue 6 §5, issue 7 §5) when the resource is checked against a profile of the
 * Stride guide: the resource is written in a transaction that is always rolled back, the bots run on it as on a real
 * write (they see the session it belongs to in the database), and their findings become the answer's issues. So an
 * EHR learns before it writes what the documentation bot or the claim scrubber would report, and nothing is stored.
 */
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { RequestContext } from '../types.js';
import { botRunnerOf } from '../../bots/open.js';
import { STRIDE_CANONICAL } from '../../validation/profile-layer.js';

/** Thrown to end the dry run: its rollback is the point, so it carries the findings out. */
class DryRun extends Error {
  constructor(readonly issues: OperationOutcomeIssue[]) {
    super('$validate dry run (rolled back)');
  }
}

/** Whether the bots' rules belong in this $validate: a Stride profile is claimed or asked for. */
export function wantsBotRules(resource: Resource, profiles: readonly string[]): boolean {
  return [...(resource.meta?.profile ?? []), ...profiles].some((p) => p.startsWith(STRIDE_CANONICAL));
}

/**
 * The bots' issues for `resource` as if it were written now (create, or update of `id`), with the profiles asked for
 * added to meta.profile so that triggers which test it see them. The resource must already be valid.
 */
export async function botRuleIssues(ctx: RequestContext, resource: Resource, profiles: readonly string[], mode: 'create' | 'update'): Promise<OperationOutcomeIssue[]> {
  const runner = botRunnerOf(ctx.repo);
  if (!runner || runner.bots.length === 0) return [];
  const claimed = [...new Set([...(resource.meta?.profile ?? []), ...profiles])];
  const candidate = { ...resource, meta: { ...resource.meta, profile: claimed } } as Resource;
  try {
    await ctx.repo.transaction(async (tx) => {
      const written = mode === 'update' && candidate.id ? await tx.update(candidate) : await tx.create({ ...candidate, id: undefined } as Resource);
      await runner.rerun(tx, [written.stored]);
      const issues: OperationOutcomeIssue[] = [];
      for (const list of tx.findings.values()) for (const issue of list) if (!issues.includes(issue)) issues.push(issue);
      throw new DryRun(issues);
    });
  } catch (err) {
    if (err instanceof DryRun) return err.issues;
    throw err;
  }
  return [];
}
