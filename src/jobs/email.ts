/**
 * One billing email (a statement or a reminder of an Invoice), sent at most once per invoice and step: the recipient
 * is the patient's email (Patient.telecom, system email); a patient without one, or who opted out (the guide's
 * billing-email-opt-out extension, true), gets nothing and the run lists her. The message is reserved
 * (messages.ts), handed to SMTP, and recorded as a Communication (recipient, payload, sent, or not-done with the
 * SMTP server's reason) in the transaction that marks it sent or failed.
 */
import { createHash } from 'node:crypto';
import type { Communication, Invoice, Patient } from '@medplum/fhirtypes';
import { STRIDE_EXTENSION } from '../billing/codes.js';
import { usd, type Statement } from '../money/statement.js';
import type { JobContext } from './context.js';
import { markMessage, reserveMessage } from './messages.js';
import { DEFAULT_TEMPLATES, renderTemplate } from './templates.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const EMAIL_OPT_OUT_EXTENSION = `${STRIDE_EXTENSION}billing-email-opt-out`;
export const MESSAGE_SYSTEM = 'http://stride-fhir.org/fhir/sid/billing-message';
const COMMUNICATION_CATEGORY = 'http://terminology.hl7.org/CodeSystem/communication-category';
/** v3 ParticipationMode EMAILWRIT: email (terminology.hl7.org/CodeSystem-v3-ParticipationMode.html). */
const PARTICIPATION_MODE = 'http://terminology.hl7.org/CodeSystem/v3-ParticipationMode';

export interface BillingEmail {
  invoice: Invoice;
  /** statement | reminder-1 | reminder-2 ... */
  step: string;
  statement: Statement;
  /** The statement PDF, attached to statements. */
  pdf?: Buffer;
}

export type EmailOutcome = 'sent' | 'failed' | 'skipped' | 'already';

function emailOf(patient: Patient | undefined): string | undefined {
  return patient?.telecom?.find((t) => t.system === 'email' && t.value && t.use !== 'old' && !t.period?.end)?.value;
}

function optedOut(patient: Patient | undefined): boolean {
  return patient?.extension?.some((e) => e.url === EMAIL_OPT_OUT_EXTENSION && e.valueBoolean === true) ?? false;
}

async function readPatient(ctx: JobContext, reference: string | undefined): Promise<Patient | undefined> {
  const id = /^Patient\/([A-Za-z0-9\-.]{1,64})$/.exec(reference ?? '')?.[1];
  const stored = id ? await ctx.repo.readCurrent('Patient', id) : undefined;
  return stored && !stored.deleted ? (parseJsonKeepingDecimals(stored.json) as Patient) : undefined;
}

export async function sendBillingEmail(ctx: JobContext, email: BillingEmail): Promise<EmailOutcome> {
  const { invoice, step, statement } = email;
  const about = `Invoice/${invoice.id}`;
  const patient = await readPatient(ctx, invoice.subject?.reference);
  if (optedOut(patient)) {
    ctx.summary.skip(about, 'opted-out', `${invoice.subject?.reference} opted out of billing email: no ${step} sent`);
    return 'skipped';
  }
  const to = emailOf(patient);
  if (!to) {
    ctx.summary.skip(about, 'no-email', `${invoice.subject?.reference} has no email address: no ${step} sent`);
    return 'skipped';
  }
  const key = `${step}:${invoice.id}`;
  const now = ctx.now();
  const reserved = await reserveMessage(ctx.store, { key, job: ctx.schedule.id, subject: about, step }, { job: ctx.schedule.id, slot: ctx.slot, owner: ctx.owner, now, leaseMs: ctx.leaseMs });
  if (reserved !== 'reserved') {
    ctx.summary.add(reserved === 'done' ? 'already-sent' : 'being-sent-elsewhere');
    return 'already';
  }
  const kind = step === 'statement' ? 'statement' : 'reminder';
  const values = {
    patient: statement.patient.name,
    clinic: statement.clinic.name,
    clinicAddress: statement.clinic.address,
    clinicPhone: statement.clinic.phone ?? '',
    invoice: invoice.id ?? '',
    amount: usd(statement.due),
    issued: statement.issued,
    howToPay: statement.howToPay,
    reminder: step.startsWith('reminder-') ? step.slice('reminder-'.length) : '',
    statementLink: `${ctx.config.baseUrl ?? `http://localhost:${ctx.config.port}/fhir`}/Invoice/${invoice.id}/$statement?_format=pdf`,
  };
  const subject = renderTemplate(ctx.schedule.subject ?? DEFAULT_TEMPLATES[kind].subject, values).trim();
  const text = renderTemplate(ctx.schedule.body ?? DEFAULT_TEMPLATES[kind].body, values);
  const filename = `statement-${invoice.id}.pdf`;
  const domain = ctx.config.jobs.mailFrom.split('@')[1] ?? 'stride.local';
  let response: string | undefined;
  let reason: string | undefined;
  try {
    response = await ctx.mailer!.send({
      from: ctx.config.jobs.mailFrom,
      to,
      subject,
      text,
      messageId: `<${step}.${invoice.id}@${domain}>`,
      ...(email.pdf ? { attachments: [{ filename, content: email.pdf, contentType: 'application/pdf' }] } : {}),
    });
  } catch (err) {
    reason = (err as Error).message || String(err);
  }
  const sentAt = ctx.now();
  const communication: Communication = {
    resourceType: 'Communication',
    identifier: [{ system: MESSAGE_SYSTEM, value: key }],
    status: reason === undefined ? 'completed' : 'not-done',
    ...(reason !== undefined ? { statusReason: { text: `Not sent: ${reason}` } } : {}),
    category: [{ coding: [{ system: COMMUNICATION_CATEGORY, code: kind === 'statement' ? 'notification' : 'reminder' }] }],
    medium: [{ coding: [{ system: PARTICIPATION_MODE, code: 'EMAILWRIT', display: 'email' }] }],
    ...(invoice.subject ? { subject: invoice.subject } : {}),
    about: [{ reference: about }],
    recipient: [{ ...(invoice.subject ?? {}), display: to }],
    ...(invoice.issuer ? { sender: invoice.issuer } : {}),
    ...(reason === undefined ? { sent: new Date(sentAt).toISOString() } : {}),
    note: [{ text: `${kind === 'statement' ? 'Statement' : `Reminder ${values.reminder}`} by email to ${to}, amount due ${values.amount}${response ? `; SMTP: ${response}` : ''}` }],
    payload: [
      { contentString: `Subject: ${subject}\n\n${text}` },
      ...(email.pdf
        ? [{ contentAttachment: { contentType: 'application/pdf', title: filename, size: email.pdf.length, hash: createHash('sha1').update(email.pdf).digest('base64'), url: values.statementLink } }]
        : []),
    ],
  };
  await ctx.repo.transaction(async (tx) => {
    const created = await tx.create(communication);
    await markMessage(tx.db, key, ctx.owner, reason === undefined ? { sentAt, communicationId: created.stored.id } : { reason, communicationId: created.stored.id });
  });
  if (reason !== undefined) {
    ctx.summary.fail(about, `${step} to ${to} not sent: ${reason}`);
    return 'failed';
  }
  ctx.summary.add(kind === 'statement' ? 'statements-sent' : 'reminders-sent');
  ctx.summary.addAmount('amount-due', statement.due);
  return 'sent';
}
