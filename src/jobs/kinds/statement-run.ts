/**
 * statement-run: every patient who owes something (the money ledger's patient balance) gets an Invoice for what no
 * issued Invoice bills yet, for services through the slot's date in the clinic's time zone ($invoice's rules,
 * src/money/invoice.ts). Each patient is one transaction under the ledger lock, as $invoice is: a run taken over after
 * a crash, or run twice, issues nothing twice.
 */
import type { JobContext } from '../context.js';
import { sql } from '../../sql/sql.js';
import { lockLedger } from '../../money/hook.js';
import { buildInvoice } from '../../money/invoice.js';
import { toCents } from '../../money/postings.js';
import { localDate } from '../schedule.js';

export async function statementRun(ctx: JobContext): Promise<void> {
  const clinic = ctx.schedule.clinic;
  const rows = await ctx.store.reader.all<{ patient: string }>(
    clinic
      ? sql`SELECT DISTINCT patient FROM money_claim WHERE patient_balance > 0 AND provider = ${clinic} ORDER BY patient`
      : sql`SELECT DISTINCT patient FROM money_claim WHERE patient_balance > 0 ORDER BY patient`,
  );
  const end = localDate(ctx.slot, ctx.schedule.timeZone);
  for (const { patient } of rows) {
    const patientId = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(patient)?.[1];
    if (!patientId) continue;
    await ctx.keep();
    try {
      const issued = await ctx.repo.transaction(async (tx) => {
        await lockLedger(tx);
        const invoice = await buildInvoice(tx, { patientId, end, date: new Date(ctx.now()).toISOString() });
        if (!invoice) return undefined;
        await tx.create(invoice);
        return invoice;
      });
      if (!issued) ctx.summary.add('nothing-new');
      else {
        ctx.summary.add('invoices-issued');
        ctx.summary.addAmount('invoiced', toCents(issued.totalNet?.value));
      }
    } catch (err) {
      ctx.summary.fail(patient, `no Invoice issued: ${(err as Error).message}`);
    }
  }
}
