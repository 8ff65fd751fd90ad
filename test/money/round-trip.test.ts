/**
 * Money back in, end to end over HTTP (issue 21 §3, Show "round trip"): session -> claim -> $submit -> a remittance
 * keyed from a paper EOB (ClaimResponse, source manual) -> the patient's Invoice for the month -> $statement as HTML
 * and as PDF (read back with pdftotext, rasterised with pdftoppm) -> patient payments ($pay with a receipt number, a
 * client's own PaymentReconciliation against the Invoice) -> balance 0 -> Invoice balanced, claim closed.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, Invoice, Parameters, ParametersParameter, PaymentReconciliation } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { createPatient, createPractice, searchAll, type Practice } from '../claims/practice.js';
import { patientPayment } from '../bench/claims-data.js';

const ADJUDICATION = 'http://terminology.hl7.org/CodeSystem/adjudication';
const GROUP = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
const CARC = 'https://x12.org/codes/claim-adjustment-reason-codes';
const usd = (cents: number) => ({ value: cents / 100, currency: 'USD' as const });
const cents = (m: ParametersParameter | undefined) => Math.round((m?.valueMoney?.value ?? NaN) * 100);
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const money = (c: number) => `$${Math.floor(c / 100).toLocaleString('en-US')}.${String(c % 100).padStart(2, '0')}`;

/** A paper EOB keyed by a biller: 80% allowed, 20% coinsurance (PR-2), the rest written off (CO-45). */
function keyedEob(claim: Claim): { response: ClaimResponse; paid: number; pr: number; co: number } {
  let paid = 0;
  let pr = 0;
  let co = 0;
  const item = claim.item!.map((i) => {
    const billed = Math.round(i.net!.value! * 100);
    const allowed = Math.round(billed * 0.8);
    const coins = Math.round(allowed * 0.2);
    paid += allowed - coins;
    pr += coins;
    co += billed - allowed;
    const cas = (g: string, r: string, c: number): ClaimResponseItemAdjudication => ({ category: { coding: [{ system: GROUP, code: g }] }, reason: { coding: [{ system: CARC, code: r }] }, amount: usd(c) });
    return {
      itemSequence: i.sequence,
      adjudication: [
        { category: { coding: [{ system: ADJUDICATION, code: 'submitted' }] }, amount: usd(billed) },
        { category: { coding: [{ system: ADJUDICATION, code: 'eligible' }] }, amount: usd(allowed) },
        cas('CO', '45', billed - allowed),
        cas('PR', '2', coins),
        { category: { coding: [{ system: ADJUDICATION, code: 'benefit' }] }, amount: usd(allowed - coins) },
      ],
    };
  });
  const response: ClaimResponse = {
    resourceType: 'ClaimResponse',
    meta: { tag: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/remittance-source', code: 'manual' }] },
    identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-claim-number', value: 'EOB-0001' }],
    status: 'active',
    type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
    use: 'claim',
    patient: claim.patient,
    created: new Date().toISOString(),
    insurer: claim.insurer!,
    request: { reference: `Claim/${claim.id}` },
    outcome: 'complete',
    item,
    total: [{ category: { coding: [{ system: ADJUDICATION, code: 'submitted' }] }, amount: claim.total! }, { category: { coding: [{ system: ADJUDICATION, code: 'benefit' }] }, amount: usd(paid) }],
    payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, amount: usd(paid), date: new Date().toISOString().slice(0, 10) },
  };
  return { response, paid, pr, co };
}

describeEachEngine('patient responsibility: invoice, statement, payments, closed', (engine) => {
  let s: TestServer;
  let practice: Practice;
  let patient: string;
  let claim: Claim;
  let eob: ReturnType<typeof keyedEob>;
  let invoice: Invoice;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-statement-'));

  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
    const keys = await createPatient(s.baseUrl, practice, { payer: practice.payers[1]!, clinic: practice.clinics[0]!, family: 'Okafor', sessions: [{ date: '2026-11-10', services: [{ name: 'gait', minutes: 23 }, { name: 'exercise', minutes: 15 }] }] });
    patient = keys.patient!;
  }, 300_000);
  afterAll(async () => {
    fs.rmSync(tmp, { recursive: true, force: true });
    await s?.close();
  });

  const balance = async (ref: string) => (await fhir<Parameters>(s.baseUrl, 'GET', `${ref}/$balance`)).body;

  it('the claim is sent, and a keyed EOB moves what the payer did not pay onto the patient', async () => {
    [claim] = await searchAll<Claim>(s.baseUrl, `Claim?patient=${patient}&stage=ready`);
    expect(claim).toBeDefined();
    const before = await balance(`Claim/${claim.id}`);
    expect(cents(param(before, 'payer-balance'))).toBe(Math.round(claim.total!.value! * 100));
    const sent = await fhir(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter: [{ name: 'claim', valueReference: { reference: `Claim/${claim.id}` } }] });
    expect(sent.status, sent.text.slice(0, 300)).toBe(200);
    eob = keyedEob(claim);
    const posted = await fhir(s.baseUrl, 'POST', 'ClaimResponse', eob.response);
    expect(posted.status, posted.text.slice(0, 500)).toBe(201);
    const after = await balance(`Claim/${claim.id}`);
    expect(cents(param(after, 'insurance-paid'))).toBe(eob.paid);
    expect(cents(param(after, 'payer-adjustments'))).toBe(eob.co);
    expect(cents(param(after, 'payer-balance'))).toBe(0);
    expect(cents(param(after, 'patient-balance'))).toBe(eob.pr);
    expect(eob.paid + eob.co + eob.pr).toBe(Math.round(claim.total!.value! * 100));
  });

  it('$invoice issues one Invoice for the month with the payer\'s adjudication per service; a second run bills nothing twice', async () => {
    const reply = await fhir<Invoice>(s.baseUrl, 'POST', `${patient}/$invoice`, { resourceType: 'Parameters', parameter: [{ name: 'start', valueDate: '2026-11-01' }, { name: 'end', valueDate: '2026-11-30' }] });
    expect(reply.status, reply.text.slice(0, 500)).toBe(201);
    invoice = reply.body;
    expect(invoice.status).toBe('issued');
    expect(invoice.subject?.reference).toBe(patient);
    expect(invoice.lineItem).toHaveLength(claim.item!.length);
    expect(Math.round(invoice.totalNet!.value! * 100)).toBe(eob.pr);
    expect(Math.round(invoice.totalGross!.value! * 100)).toBe(Math.round(claim.total!.value! * 100));
    for (const [k, line] of invoice.lineItem!.entries()) {
      const sum = (type: string) => line.priceComponent!.filter((c) => c.type === type).reduce((t, c) => t + Math.round(c.amount!.value! * 100), 0);
      expect(line.chargeItemCodeableConcept?.coding?.[0]?.code).toBe(claim.item![k]!.productOrService.coding![0]!.code);
      expect(sum('base')).toBe(Math.round(claim.item![k]!.net!.value! * 100));
      // billed - insurance paid - write-offs = what the patient owes on the line (its PR amounts).
      expect(sum('base') - sum('deduction') - sum('discount')).toBe(sum('informational'));
      expect(line.priceComponent!.some((c) => c.code?.text?.startsWith('PR-2 Coinsurance'))).toBe(true);
    }
    const again = await fhir(s.baseUrl, 'POST', `${patient}/$invoice`, { resourceType: 'Parameters', parameter: [{ name: 'end', valueDate: '2026-11-30' }] });
    expect(again.status).toBe(422);
    expect((await searchAll<Invoice>(s.baseUrl, `Invoice?subject=${patient}`)).length).toBe(1);
    const bad = await fhir(s.baseUrl, 'POST', `${patient}/$invoice?start=2026-12-01&end=2026-11-01`);
    expect(bad.status).toBe(400);
  });

  it('the statement as HTML names the clinic, the patient, each service, the amounts, the aging and how to pay', async () => {
    const reply = await fetch(`${s.baseUrl}/Invoice/${invoice.id}/$statement?as-of=2026-12-20`, { headers: { Accept: 'text/html' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('text/html');
    const html = await reply.text();
    const clinic = (await fhir(s.baseUrl, 'GET', practice.clinics[0]!)).body as { name: string };
    expect(html).toContain(clinic.name);
    expect(html).toContain('Okafor');
    for (const item of claim.item!) expect(html).toContain(item.productOrService.coding![0]!.code!);
    expect(html).toContain(`Amount due: ${money(eob.pr)}`);
    expect(html).toContain(money(eob.paid));
    expect(html).toContain('How to pay');
    // 2026-11-10 to 2026-12-20: 40 days, the 31-60 bucket.
    expect(html).toContain(`<tr><td class="amount">$0.00</td><td class="amount">${money(eob.pr)}</td><td class="amount">$0.00</td>`);
  });

  it('the statement as PDF reads back (pdftotext) with the same content and renders to PNG (pdftoppm)', async () => {
    const reply = await fetch(`${s.baseUrl}/Invoice/${invoice.id}/$statement?as-of=2026-12-20`, { headers: { Accept: 'application/pdf' } });
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('application/pdf');
    const pdf = Buffer.from(await reply.arrayBuffer());
    expect(pdf.subarray(0, 5).toString()).toBe('%PDF-');
    const file = path.join(tmp, 'statement.pdf');
    fs.writeFileSync(file, pdf);
    const text = execFileSync('pdftotext', ['-layout', file, '-'], { encoding: 'utf8' });
    const clinic = (await fhir(s.baseUrl, 'GET', practice.clinics[0]!)).body as { name: string };
    expect(text).toContain(clinic.name);
    expect(text).toContain('Okafor');
    for (const item of claim.item!) expect(text).toContain(item.productOrService.coding![0]!.code!);
    expect(text).toContain(`Amount due: ${money(eob.pr)}`);
    expect(text).toContain(`31-60 days: ${money(eob.pr)}`);
    expect(text).toContain('How to pay');
    execFileSync('pdftoppm', ['-png', '-r', '50', file, path.join(tmp, 'page')]);
    const pages = fs.readdirSync(tmp).filter((f) => f.startsWith('page') && f.endsWith('.png'));
    expect(pages).toHaveLength(1);
    const png = fs.readFileSync(path.join(tmp, pages[0]!));
    expect(png.subarray(1, 4).toString()).toBe('PNG');
    expect(png.length).toBeGreaterThan(2000);
  });

  it('payments post once, an overpayment is refused, and the last payment balances the Invoice and closes the claim', async () => {
    const first = Math.floor(eob.pr / 3);
    const pay = (amount: number, identifier?: string) =>
      fhir<PaymentReconciliation>(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: (amount / 100).toFixed(2) }, { name: 'method', valueCode: 'card' }, ...(identifier ? [{ name: 'identifier', valueString: identifier }] : [])] });
    const one = await pay(first, 'R-1001');
    expect(one.status, one.text.slice(0, 300)).toBe(201);
    const twice = await pay(first, 'R-1001');
    expect(twice.status).toBe(200);
    expect(twice.body.id).toBe(one.body.id);
    expect(cents(param(await balance(`Claim/${claim.id}`), 'patient-paid'))).toBe(first);
    // A receipt id with search syntax in it (`,` `|` `\`) is one id, not an OR list or a system: a payment of its own,
    // not taken for R-1001's repeat; given again, it is its own repeat.
    const odd = await pay(1, 'R-9,R-1001|x\\y');
    expect(odd.status, odd.text.slice(0, 300)).toBe(201);
    expect(odd.body.id).not.toBe(one.body.id);
    expect(odd.body.paymentIdentifier?.value).toBe('R-9,R-1001|x\\y');
    expect((await pay(1, 'R-9,R-1001|x\\y')).body.id).toBe(odd.body.id);
    // The patient's own PaymentReconciliation against the Invoice (a client's write) posts the same way.
    const second = Math.floor(eob.pr / 3);
    const direct = await fhir(s.baseUrl, 'POST', 'PaymentReconciliation', patientPayment(patient, `Invoice/${invoice.id}`, second));
    expect(direct.status, direct.text.slice(0, 300)).toBe(201);
    const left = eob.pr - first - second - 1;
    const over = await pay(left + 1);
    expect(over.status).toBe(422);
    expect((await fhir(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: '-5' }] })).status).toBe(400);
    expect(cents(param(await balance(patient), 'patient-balance'))).toBe(left);
    expect((await fhir<Invoice>(s.baseUrl, 'GET', `Invoice/${invoice.id}`)).body.status).toBe('issued');
    expect((await pay(left)).status).toBe(201);
    const end = await balance(`Claim/${claim.id}`);
    expect(cents(param(end, 'balance'))).toBe(0);
    expect(param(end, 'stage')?.valueCode).toBe('closed');
    expect((await fhir<Invoice>(s.baseUrl, 'GET', `Invoice/${invoice.id}`)).body.status).toBe('balanced');
    expect((await searchAll<Claim>(s.baseUrl, `Claim?patient=${patient}&stage=closed`)).map((c) => c.id)).toEqual([claim.id]);
    const statement = await (await fetch(`${s.baseUrl}/Invoice/${invoice.id}/$statement`, { headers: { Accept: 'text/html' } })).text();
    expect(statement).toContain('Amount due: $0.00');
    expect(statement).toContain(`Paid since: ${money(eob.pr)}`);
    const aging = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?by=patient`)).body;
    expect(aging.parameter!.filter((p) => p.name === 'group').map((g) => g.part!.find((x) => x.name === 'key')!.valueString)).not.toContain(patient);
  });
});
