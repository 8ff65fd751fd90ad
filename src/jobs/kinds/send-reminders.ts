/**
 * send-reminders: an issued Invoice whose statement was emailed, and that still has something due, gets reminder k
 * (key `reminder-k:<invoice>`) once `after-days` calendar days (the clinic's time zone) have passed since the
 * statement or reminder k-1, up to `max-reminders`. A paid Invoice (balanced, or nothing due) gets none.
 */
import type { JobContext } from '../context.js';
import { buildStatement } from '../../money/statement.js';
import { sendBillingEmail } from '../email.js';
import { sentSteps } from '../messages.js';
import { daysBetween, localDate } from '../schedule.js';
import { issuedInvoiceIds, readIssued } from './invoices.js';

export async function sendReminders(ctx: JobContext): Promise<void> {
  const { afterDays, maxReminders, timeZone } = ctx.schedule;
  const sent = await sentSteps(ctx.store.reader);
  for (const id of await issuedInvoiceIds(ctx)) {
    const steps = sent.get(`Invoice/${id}`);
    const statementSent = steps?.get('statement');
    if (statementSent === undefined) continue;
    let done = 0;
    let last = statementSent;
    while (steps!.has(`reminder-${done + 1}`)) last = Math.max(last, steps!.get(`reminder-${++done}`)!);
    if (done >= maxReminders) {
      ctx.summary.add('reminders-exhausted');
      continue;
    }
    if (daysBetween(last, ctx.now(), timeZone) < afterDays) {
      ctx.summary.add('not-due-yet');
      continue;
    }
    await ctx.keep();
    const invoice = await readIssued(ctx, id);
    if (!invoice) {
      ctx.summary.add('paid');
      continue;
    }
    const statement = await buildStatement(ctx.repo, id, localDate(ctx.now(), timeZone));
    if (statement.due <= 0) {
      ctx.summary.add('paid');
      continue;
    }
    await sendBillingEmail(ctx, { invoice, step: `reminder-${done + 1}`, statement });
  }
}
