/**
 * submit-claims: every ready Claim (or those to one payer) goes out as $submit sends it (src/claims/submit.ts): one
 * 837P file per payer. $submit itself makes a claim go into exactly one file, so a run taken over sends nothing twice.
 */
import type { JobContext } from '../context.js';
import { submitClaims } from '../../claims/submit.js';

export async function submitReadyClaims(ctx: JobContext): Promise<void> {
  await ctx.keep();
  const result = await submitClaims(ctx.repo, { payer: ctx.schedule.payer, usage: ctx.schedule.usage, dryRun: false }, ctx.config.x12, new Date(ctx.now()));
  ctx.summary.add('files', result.files.length);
  ctx.summary.add('claims-sent', result.files.reduce((n, f) => n + f.claims.length, 0));
  for (const f of result.files) if (f.documentReference) ctx.summary.note(f.documentReference, `837P file: ${f.claims.length} claim(s) to ${f.receiverName}`);
  for (const r of result.refused) ctx.summary.fail(r.claim, r.reason);
}
