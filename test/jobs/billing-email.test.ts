/**
 * Statement runs, emailed statements and reminders (issue 28 §1, §3) through a real SMTP server in the test process,
 * on a controllable clock: a statement run issues one Invoice per patient who owes; the statements go out once each
 * with the PDF attached and the right amount; patients without an email or who opted out get none and the run says
 * so; a second run the same day sends nothing; two reminder rounds 14 days apart remind exactly the unpaid invoices,
 * with what is still due, and a paid invoice gets no reminder; each message is a Communication.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Communication, Invoice, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { keyOf, startSmtp, type TestSmtp } from '../bench/smtp.js';
import { jobData, jobTask, usd } from './data.js';
import { pdfText } from './pdf-text.js';

const NY = (local: string) => {
  // 2026-12 is EST (UTC-5).
  return Date.parse(`${local}-05:00`);
};

describeEachEngine('jobs: statement run, emailed statements and reminders', (engine) => {
  let s: TestServer;
  let smtp: TestSmtp;
  let now = NY('2026-12-01T05:00:00');
  const data = jobData({ claims: 40, patients: 12, prefix: 'je' });
  const invoices = new Map<string, Invoice>(); // by patient
  const tasks = new Map<string, string>(); // job name -> Task id

  const tick = async () => s.stride.jobs.tick();
  /** The daily statement jobs run too on the days of the reminder rounds, with nothing new to do: the reminders' run. */
  const reminders = async () => (await tick()).filter((r) => r.name === 'reminders');
  const runsOf = async (name: string) => (await fhir<Bundle<Task>>(s.baseUrl, 'GET', `Task?based-on=Task/${tasks.get(name)}&_count=100`)).body.entry?.map((e) => e.resource!) ?? [];
  const output = (task: Task, code: string) => task.output?.find((o) => o.type.coding?.[0]?.code === code)?.valueUnsignedInt;
  const amount = (task: Task, code: string) => Math.round((task.output?.find((o) => o.type.coding?.[0]?.code === code)?.valueMoney?.value ?? NaN) * 100);
  const sum = (patients: string[]) => patients.reduce((t, p) => t + data.owed.get(p)!, 0);
  const emailed = () => [...data.owed.keys()].filter((p) => p !== data.noEmail && p !== data.optedOut);

  beforeAll(async () => {
    smtp = await startSmtp();
    s = await startTestServer(engine, { STRIDE_SMTP_URL: smtp.url, STRIDE_JOBS_TICK_SECONDS: '0', STRIDE_MAIL_FROM: 'billing@northside.example.org' });
    s.stride.jobs.useClock(() => now);
    for (const bundle of data.bundles) {
      const reply = await fhir(s.baseUrl, 'POST', '', bundle);
      expect(reply.status, reply.text.slice(0, 400)).toBe(200);
    }
    const from = '2026-12-01T00:00:00-05:00';
    for (const task of [
      jobTask('statements-issue', 'statement-run', '0 6 * * *', {}, { from }),
      jobTask('statements-send', 'send-statements', '0 7 * * *', {}, { from }),
      jobTask('reminders', 'send-reminders', '0 8 * * *', { 'after-days': 14, 'max-reminders': 2 }, { from }),
    ]) {
      const reply = await fhir<Task>(s.baseUrl, 'POST', 'Task', task);
      expect(reply.status, reply.text.slice(0, 400)).toBe(201);
      tasks.set(task.identifier![0]!.value!, reply.body.id!);
    }
  }, 300_000);
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('nothing runs before its first slot', async () => {
    expect(await tick()).toEqual([]);
    expect(smtp.accepted).toHaveLength(0);
  });

  it('the 06:00 statement run issues one Invoice per patient who owes, for what she owes', async () => {
    now = NY('2026-12-01T06:00:30');
    const reports = await tick();
    expect(reports.map((r) => [r.name, r.outcome])).toEqual([['statements-issue', 'done']]);
    for (const [patient, cents] of data.owed) {
      const found = (await fhir<Bundle<Invoice>>(s.baseUrl, 'GET', `Invoice?subject=${patient}`)).body.entry?.map((e) => e.resource!) ?? [];
      expect(found, patient).toHaveLength(1);
      expect(Math.round(found[0]!.totalNet!.value! * 100), patient).toBe(cents);
      invoices.set(patient, found[0]!);
    }
    const [run] = await runsOf('statements-issue');
    expect(run!.status).toBe('completed');
    expect(output(run!, 'invoices-issued')).toBe(data.owed.size);
    expect(amount(run!, 'invoiced')).toBe(sum([...data.owed.keys()]));
    expect(smtp.accepted).toHaveLength(0);
  });

  it('the 07:00 run emails each statement once, the PDF attached, with the amount due; no email or opted out: none, and the run says so', async () => {
    now = NY('2026-12-01T07:00:10');
    const reports = await tick();
    expect(reports.map((r) => [r.name, r.outcome])).toEqual([['statements-send', 'done']]);
    const want = emailed();
    expect(smtp.accepted.map(keyOf).sort()).toEqual(want.map((p) => `statement:${invoices.get(p)!.id}`).sort());
    for (const mail of smtp.accepted) {
      const patient = want.find((p) => keyOf(mail) === `statement:${invoices.get(p)!.id}`)!;
      const due = usd(data.owed.get(patient)!);
      expect(mail.to && 'text' in mail.to ? mail.to.text : '').toBe(data.email.get(patient));
      expect(mail.subject).toBe(`Your statement from ${mail.text!.includes('Northside') ? 'Northside' : 'Eastside'} Rehabilitation: ${due} due`);
      expect(mail.text).toContain(`Amount due: ${due}`);
      expect(mail.attachments).toHaveLength(1);
      const pdf = mail.attachments[0]!;
      expect(pdf.filename).toBe(`statement-${invoices.get(patient)!.id}.pdf`);
      expect(pdf.contentType).toBe('application/pdf');
      expect(pdf.content.subarray(0, 5).toString()).toBe('%PDF-');
      const text = pdfText(pdf.content);
      expect(text).toContain(`Amount due: ${due}`);
      expect(text).toContain(`Statement ${invoices.get(patient)!.id}, issued 2026-12-01`);
    }
    const [run] = await runsOf('statements-send');
    expect(output(run!, 'statements-sent')).toBe(want.length);
    expect(amount(run!, 'amount-due')).toBe(sum(want));
    expect(output(run!, 'no-email')).toBe(1);
    expect(output(run!, 'opted-out')).toBe(1);
    const leftOut = run!.output!.filter((o) => o.type.coding?.[0]?.code === 'left-out').map((o) => o.valueString);
    expect(leftOut.some((t) => t!.includes(`${data.noEmail} has no email address`))).toBe(true);
    expect(leftOut.some((t) => t!.includes(`${data.optedOut} opted out`))).toBe(true);
    const comms = (await fhir<Bundle<Communication>>(s.baseUrl, 'GET', 'Communication?_count=200')).body.entry!.map((e) => e.resource!);
    expect(comms).toHaveLength(want.length);
    for (const c of comms) {
      expect(c.status).toBe('completed');
      expect(c.payload?.[1]?.contentAttachment?.contentType).toBe('application/pdf');
      expect(c.recipient?.[0]?.reference).toMatch(/^Patient\//);
    }
  });

  it('a second run the same day sends nothing: the slot is taken, and a manual run finds every statement sent', async () => {
    now = NY('2026-12-01T07:30:00');
    expect(await tick()).toEqual([]);
    const manual = await s.stride.jobs.runNow('statements-send');
    expect(manual.outcome).toBe('done');
    expect(smtp.accepted).toHaveLength(emailed().length);
    expect((await runsOf('statements-send')).length).toBe(2);
  });

  let paid: string;
  let partly: string;
  it('reminder round 1 (14 days later) reminds every unpaid invoice of what is due; the one paid in full gets none', async () => {
    [paid, partly] = emailed();
    // A payment processor's webhook posts the payment with its own payment id: posted once however often it retries.
    for (let i = 0; i < 2; i++) {
      const pay = await fhir(s.baseUrl, 'POST', `Invoice/${invoices.get(paid!)!.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: (data.owed.get(paid!)! / 100).toFixed(2) }, { name: 'method', valueCode: 'card' }, { name: 'identifier', valueString: 'pi_3Nx0001' }] });
      expect(pay.status, pay.text.slice(0, 300)).toBe(i === 0 ? 201 : 200);
    }
    expect((await fhir<Invoice>(s.baseUrl, 'GET', `Invoice/${invoices.get(paid!)!.id}`)).body.status).toBe('balanced');
    const before = smtp.accepted.length;
    now = NY('2026-12-14T08:00:05');
    expect((await reminders()).map((r) => r.text)).toEqual([expect.stringContaining('not-due-yet')]);
    expect(smtp.accepted.length).toBe(before);
    now = NY('2026-12-15T08:00:05');
    expect((await reminders()).map((r) => r.outcome)).toEqual(['done']);
    const round = smtp.accepted.slice(before);
    const want = emailed().filter((p) => p !== paid);
    expect(round.map(keyOf).sort()).toEqual(want.map((p) => `reminder-1:${invoices.get(p)!.id}`).sort());
    for (const mail of round) {
      const patient = want.find((p) => keyOf(mail).endsWith(`:${invoices.get(p)!.id}`))!;
      expect(mail.subject).toContain(`Reminder 1: ${usd(data.owed.get(patient)!)} due`);
      expect(mail.attachments).toHaveLength(0);
    }
    now = NY('2026-12-15T18:00:00');
    expect(await tick()).toEqual([]);
    expect(smtp.accepted.length).toBe(before + want.length);
  });

  it('reminder round 2 says what is still due after a part payment; after max-reminders, none', async () => {
    const part = Math.floor(data.owed.get(partly!)! / 2);
    const pay = await fhir(s.baseUrl, 'POST', `Invoice/${invoices.get(partly!)!.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: (part / 100).toFixed(2) }] });
    expect(pay.status).toBe(201);
    const before = smtp.accepted.length;
    now = NY('2026-12-29T08:00:05');
    expect((await reminders()).map((r) => r.outcome)).toEqual(['done']);
    const round = smtp.accepted.slice(before);
    const want = emailed().filter((p) => p !== paid);
    expect(round.map(keyOf).sort()).toEqual(want.map((p) => `reminder-2:${invoices.get(p)!.id}`).sort());
    const mail = round.find((m) => keyOf(m) === `reminder-2:${invoices.get(partly!)!.id}`)!;
    expect(mail.subject).toContain(`Reminder 2: ${usd(data.owed.get(partly!)! - part)} due`);
    now = NY('2027-01-12T08:00:05');
    const [last] = await reminders();
    expect(last!.text).toContain(`reminders-exhausted ${want.length}`);
    expect(smtp.accepted.length).toBe(before + want.length);
    // Every message exactly once, each recorded as a Communication.
    const keys = smtp.accepted.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    const comms = (await fhir<Bundle<Communication>>(s.baseUrl, 'GET', 'Communication?_count=500')).body.entry!.map((e) => e.resource!);
    expect(comms.map((c) => c.identifier![0]!.value).sort()).toEqual([...keys].sort());
  });
});
