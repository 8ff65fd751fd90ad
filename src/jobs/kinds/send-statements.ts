/**
 * send-statements: every issued Invoice whose statement has not been emailed yet, with something due, gets its
 * statement (the $statement PDF attached) by email, once (key `statement:<invoice>`).
 */
import type { JobContext } from '../context.js';
import { buildStatement } from '../../money/statement.js';
import { statementPdf } from '../../money/statement-pdf.js';
import { sendBillingEmail } from '../email.js';
import { sentSteps } from '../messages.js';
import { localDate } from '../schedule.js';
import { issuedInvoiceIds, readIssued } from './invoices.js';

export async function sendStatements(ctx: JobContext): Promise<void> {
  const sent = await sentSteps(ctx.store.reader);
  for (const id of await issuedInvoiceIds(ctx)) {
    if (sent.get(`Invoice/${id}`)?.has('statement')) {
      ctx.summary.add('already-sent');
      continue;
    }
    await ctx.keep();
    const invoice = await readIssued(ctx, id);
    if (!invoice) continue;
    const statement = await buildStatement(ctx.repo, id, localDate(ctx.now(), ctx.schedule.timeZone));
    if (statement.due <= 0) {
      ctx.summary.add('nothing-due');
      continue;
    }
    await sendBillingEmail(ctx, { invoice, step: 'statement', statement, pdf: await statementPdf(statement) });
  }
}
