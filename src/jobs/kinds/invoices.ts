/** The issued Invoices a send job goes through (all, or those one clinic issued), read once at the start of a run. */
import type { Invoice } from '@medplum/fhirtypes';
import type { JobContext } from '../context.js';
import { parseJsonKeepingDecimals } from '../../fhir/json-decimals.js';

const PAGE = 1000;

/** Ids first, then each Invoice read as it comes: a payment made during the run is seen by the step that follows it. */
export async function issuedInvoiceIds(ctx: JobContext): Promise<string[]> {
  const params: Record<string, string[]> = { status: ['issued'], _sort: ['_id'] };
  if (ctx.schedule.clinic) params.issuer = [ctx.schedule.clinic];
  const ids: string[] = [];
  for (let offset = 0; ; offset += PAGE) {
    const page = await ctx.repo.search({ resourceType: 'Invoice', params, count: PAGE, offset, total: 'none' });
    ids.push(...page.rows.map((r) => r.id));
    if (page.rows.length < PAGE) return ids;
  }
}

/** The Invoice as it is now, or undefined when it is no longer issued (balanced by a payment, cancelled). */
export async function readIssued(ctx: JobContext, id: string): Promise<Invoice | undefined> {
  const stored = await ctx.repo.readCurrent('Invoice', id);
  if (!stored || stored.deleted) return undefined;
  const invoice = parseJsonKeepingDecimals(stored.json) as Invoice;
  return invoice.status === 'issued' ? invoice : undefined;
}
