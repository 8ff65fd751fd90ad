/**
 * The money ledger over HTTP (issue 21 §4): 240 generated claims (insured and self-pay) with remittances as a biller
 * keys them (paid, partly paid with PR, denied, reversed and corrected), and patient payments; every claim's and
 * patient's $balance, and Claim/$aging by payer, patient, provider and stage on both bases, equal to the cent what
 * the test sums itself from what it posted. CSV and SVG say the same; bad parameters are 400s; an overpayment is
 * refused and changes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Invoice, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { bucketOf, bundlesOf, generate, patientPayment, type Expected } from '../bench/claims-data.js';

const AS_OF = '2026-12-15';
const BUCKETS = ['0-30', '31-60', '61-90', '91-120', 'over-120'];
const cents = (m: ParametersParameter | undefined) => Math.round((m?.valueMoney?.value ?? NaN) * 100);
const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const dayOf = (date: string) => Math.floor(Date.parse(`${date}T00:00:00Z`) / 86_400_000);

describeEachEngine('money ledger: balances and $aging', (engine) => {
  let s: TestServer;
  const data = generate({ claims: 240, patients: 30 });
  const paidByPatient = new Map<string, number>();
  const patientBalance = (e: Expected) => e.patientResponsibility - (paidByPatient.get(e.claimId) ?? 0);
  const payerBalance = (e: Expected) => e.billed - e.paid - e.payerAdjustments - e.patientResponsibility;

  beforeAll(async () => {
    s = await startTestServer(engine);
    for (const bundle of bundlesOf([...data.shared, ...data.claims, ...data.responses])) {
      const reply = await fhir(s.baseUrl, 'POST', '', bundle);
      expect(reply.status, reply.text.slice(0, 500)).toBe(200);
    }
    // Patients pay part of what they owe on one claim in five, straight against the claim.
    let n = 0;
    for (const e of data.expected.values()) {
      if (n++ % 5 !== 0 || e.patientResponsibility === 0) continue;
      const amount = Math.max(1, Math.floor(e.patientResponsibility / 2));
      const reply = await fhir(s.baseUrl, 'POST', 'PaymentReconciliation', patientPayment(e.patient, `Claim/${e.claimId}`, amount));
      expect(reply.status, reply.text.slice(0, 500)).toBe(201);
      paidByPatient.set(e.claimId, amount);
    }
  }, 600_000);
  afterAll(async () => s?.close());

  it('each claim\'s balance is billed - paid - adjustments - patient payments, payer and patient apart', async () => {
    for (const e of data.expected.values()) {
      const reply = await fhir<Parameters>(s.baseUrl, 'GET', `Claim/${e.claimId}/$balance`);
      expect(reply.status, reply.text).toBe(200);
      const got = Object.fromEntries(['billed', 'insurance-paid', 'payer-adjustments', 'patient-responsibility', 'patient-paid', 'payer-balance', 'patient-balance', 'balance'].map((n) => [n, cents(param(reply.body, n))]));
      expect(got, e.claimId).toEqual({
        billed: e.billed,
        'insurance-paid': e.paid,
        'payer-adjustments': e.payerAdjustments,
        'patient-responsibility': e.patientResponsibility,
        'patient-paid': paidByPatient.get(e.claimId) ?? 0,
        'payer-balance': payerBalance(e),
        'patient-balance': patientBalance(e),
        balance: payerBalance(e) + patientBalance(e),
      });
      // A remittance that balances leaves nothing on the payer.
      if (e.paid + e.payerAdjustments + e.patientResponsibility > 0 || e.payer === 'self-pay') expect(payerBalance(e)).toBe(0);
    }
  });

  it('each patient\'s balance is the sum of her claims\'', async () => {
    for (const patient of data.patients) {
      const mine = [...data.expected.values()].filter((e) => e.patient === patient);
      const reply = await fhir<Parameters>(s.baseUrl, 'GET', `${patient}/$balance`);
      expect(reply.status).toBe(200);
      expect(cents(param(reply.body, 'patient-balance'))).toBe(mine.reduce((t, e) => t + patientBalance(e), 0));
      expect(cents(param(reply.body, 'payer-balance'))).toBe(mine.reduce((t, e) => t + payerBalance(e), 0));
      expect(reply.body.parameter?.filter((p) => p.name === 'claim')).toHaveLength(mine.length);
    }
  });

  const expectedAging = (by: 'payer' | 'patient' | 'provider', basis: 'service') => {
    const groups = new Map<string, number[]>();
    for (const e of data.expected.values()) {
      const owed = payerBalance(e) + patientBalance(e);
      if (owed === 0 && payerBalance(e) === 0 && patientBalance(e) === 0) continue;
      const key = e[by];
      const row = groups.get(key) ?? [0, 0, 0, 0, 0];
      row[bucketOf(dayOf(AS_OF) - dayOf(basis === 'service' ? e.serviceDate : e.serviceDate))]! += owed;
      groups.set(key, row);
    }
    return groups;
  };

  for (const by of ['payer', 'patient', 'provider'] as const) {
    it(`$aging by ${by}: every group's buckets and the total equal the test's own sums of the claims' balances`, async () => {
      const reply = await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}&by=${by}`);
      expect(reply.status, reply.text.slice(0, 500)).toBe(200);
      const want = expectedAging(by, 'service');
      const groups = reply.body.parameter!.filter((p) => p.name === 'group');
      expect(new Set(groups.map((g) => part(g, 'key')!.valueString))).toEqual(new Set(want.keys()));
      for (const g of groups) expect(BUCKETS.map((b) => cents(part(g, b))), part(g, 'key')!.valueString).toEqual(want.get(part(g, 'key')!.valueString!));
      const all = [...data.expected.values()];
      const total = param(reply.body, 'total');
      expect(cents(part(total, 'total'))).toBe(all.reduce((t, e) => t + payerBalance(e) + patientBalance(e), 0));
      expect(cents(part(total, 'payer-balance'))).toBe(all.reduce((t, e) => t + payerBalance(e), 0));
      expect(cents(part(total, 'patient-balance'))).toBe(all.reduce((t, e) => t + patientBalance(e), 0));
      for (const [i, b] of BUCKETS.entries()) expect(cents(part(total, b))).toBe([...want.values()].reduce((t, row) => t + row[i]!, 0));
    });
  }

  it('$aging by stage and by submission date: claims never sent are not aged by submission', async () => {
    const byStage = await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}&by=stage`);
    expect(byStage.status).toBe(200);
    const all = [...data.expected.values()];
    expect(cents(part(param(byStage.body, 'total'), 'total'))).toBe(all.reduce((t, e) => t + payerBalance(e) + patientBalance(e), 0));
    // Generated claims were keyed, never sent in a batch: no submission date.
    const bySubmission = await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}&basis=submission`);
    expect(cents(part(param(bySubmission.body, 'total'), 'total'))).toBe(0);
    // As of a day before every date of service, nothing is aged.
    const early = await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=2025-01-01`);
    expect(part(param(early.body, 'total'), 'claims')?.valueInteger).toBe(0);
  });

  it('$aging as CSV (by _format or Accept) has the JSON\'s figures', async () => {
    const json = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}`)).body;
    for (const [query, headers] of [[`&_format=csv`, {}], ['', { Accept: 'text/csv' }]] as const) {
      const reply = await fetch(`${s.baseUrl}/Claim/$aging?as-of=${AS_OF}${query}`, { headers });
      expect(reply.status).toBe(200);
      expect(reply.headers.get('content-type')).toContain('text/csv');
      const lines = (await reply.text()).trim().split('\r\n').map((l) => l.split(','));
      expect(lines[0]).toEqual(['group', 'display', 'claims', ...BUCKETS, 'total', 'payer_balance', 'patient_balance']);
      const totalLine = lines.at(-1)!;
      expect(totalLine[0]).toBe('TOTAL');
      expect(Math.round(Number(totalLine[8]) * 100)).toBe(cents(part(param(json, 'total'), 'total')));
      for (const g of json.parameter!.filter((p) => p.name === 'group')) {
        const line = lines.find((l) => l[0] === part(g, 'key')!.valueString)!;
        expect(line[1]).toBe(part(g, 'display')?.valueString ?? '');
        expect(line.slice(3, 8).map((v) => Math.round(Number(v) * 100))).toEqual(BUCKETS.map((b) => cents(part(g, b))));
      }
    }
  });

  it('$aging as SVG: a stacked bar per bucket and group, the totals in the subtitle', async () => {
    const json = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}`)).body;
    const reply = await fetch(`${s.baseUrl}/Claim/$aging?as-of=${AS_OF}&_format=svg`);
    expect(reply.status).toBe(200);
    expect(reply.headers.get('content-type')).toContain('image/svg+xml');
    const svg = await reply.text();
    expect(svg.startsWith('<svg')).toBe(true);
    const total = param(json, 'total');
    expect(svg).toContain(`Total ${(cents(part(total, 'total')) / 100).toFixed(2)} USD`);
    for (const b of BUCKETS) expect(svg).toContain(`${b} ${(cents(part(total, b)) / 100).toFixed(2)}`);
    // Each bar segment's aria-label: "days outstanding: 0-30; balance (USD): 123.4; payer: Lakeside Health Plan".
    const bars = [...svg.matchAll(/aria-label="days outstanding: ([^;]+); balance \(USD\): ([-\d.]+); payer: ([^"]+)"/g)];
    expect(bars.length).toBeGreaterThan(0);
    for (const [i, b] of BUCKETS.entries()) {
      const sum = bars.filter((m) => m[1] === b).reduce((t, m) => t + Math.round(Number(m[2]) * 100), 0);
      expect(sum, b).toBe(cents(part(total, b)));
      void i;
    }
    for (const g of json.parameter!.filter((p) => p.name === 'group')) {
      const name = part(g, 'display')?.valueString ?? part(g, 'key')!.valueString!;
      const sum = bars.filter((m) => m[3] === name).reduce((t, m) => t + Math.round(Number(m[2]) * 100), 0);
      expect(sum, name).toBe(cents(part(g, 'total')));
    }
  });

  it('bad parameters are 400 OperationOutcomes that name them', async () => {
    for (const [query, name] of [['by=insurer', 'by'], ['basis=paid', 'basis'], ['as-of=2026-13-45', 'as-of'], ['_format=xml', '_format'], ['bucket=30', 'bucket'], ['as-of=2026-01-01&as-of=2026-02-01', 'as-of']]) {
      const reply = await fhir(s.baseUrl, 'GET', `Claim/$aging?${query}`);
      expect(reply.status, query).toBe(400);
      expect(reply.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(reply.body.issue), query).toContain(name);
    }
    expect((await fhir(s.baseUrl, 'GET', 'Patient/$aging')).status).toBe(404);
  });

  it('an overpayment is refused whole (422) and no balance changes', async () => {
    const e = [...data.expected.values()].find((x) => patientBalance(x) > 0)!;
    const before = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/${e.claimId}/$balance`)).body;
    const reply = await fhir(s.baseUrl, 'POST', 'PaymentReconciliation', patientPayment(e.patient, `Claim/${e.claimId}`, patientBalance(e) + 1));
    expect(reply.status, reply.text).toBe(422);
    expect(reply.text).toContain('Overpayment refused');
    expect((await fhir<Parameters>(s.baseUrl, 'GET', `Claim/${e.claimId}/$balance`)).body).toEqual(before);
  });

  it('a reversed remittance (status cancelled) takes its postings back', async () => {
    const response = data.responses.find((r) => r.status === 'active' && (r.payment?.amount?.value ?? 0) > 0 && !paidByPatient.has(r.request!.reference!.slice(6)))!;
    const claim = response.request!.reference!;
    const reply = await fhir(s.baseUrl, 'PUT', `ClaimResponse/${response.id}`, { ...response, status: 'cancelled' });
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    const after = (await fhir<Parameters>(s.baseUrl, 'GET', `${claim}/$balance`)).body;
    expect(cents(param(after, 'insurance-paid'))).toBe(0);
    expect(cents(param(after, 'payer-balance'))).toBe(cents(param(after, 'billed')));
    expect(cents(param(after, 'patient-balance'))).toBe(0);
    await fhir(s.baseUrl, 'PUT', `ClaimResponse/${response.id}`, response);
    expect(cents(param((await fhir<Parameters>(s.baseUrl, 'GET', `${claim}/$balance`)).body, 'insurance-paid'))).toBe(Math.round(response.payment!.amount!.value! * 100));
  });
  it('a self-pay patient\'s Invoice bills each charge whole; paid in full it is balanced and her claims closed', async () => {
    const e0 = [...data.expected.values()].find((e) => e.payer === 'self-pay' && !paidByPatient.has(e.claimId))!;
    const mine = [...data.expected.values()].filter((e) => e.patient === e0.patient);
    const owed = mine.reduce((t, e) => t + patientBalance(e), 0);
    const issued = await fhir<Invoice>(s.baseUrl, 'POST', `${e0.patient}/$invoice?end=2026-12-01`);
    expect(issued.status, issued.text.slice(0, 300)).toBe(201);
    const invoice = issued.body;
    expect(Math.round(invoice.totalNet!.value! * 100)).toBe(owed);
    const selfPayLines = invoice.lineItem!.filter((l) => l.priceComponent!.every((c) => c.type === 'base' || c.code?.text?.startsWith('Paid by you')));
    expect(selfPayLines.length).toBeGreaterThan(0);
    expect((await fhir(s.baseUrl, 'GET', `Invoice/${invoice.id}/$statement?_format=docx`)).status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay?amount=1.00&tip=2`)).status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay?amount=1.234`)).status).toBe(400);
    const paid = await fhir(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay?amount=${(owed / 100).toFixed(2)}&method=check`);
    expect(paid.status, paid.text.slice(0, 300)).toBe(201);
    expect((await fhir<Invoice>(s.baseUrl, 'GET', `Invoice/${invoice.id}`)).body.status).toBe('balanced');
    const after = (await fhir<Parameters>(s.baseUrl, 'GET', `${e0.patient}/$balance`)).body;
    expect(cents(param(after, 'patient-balance'))).toBe(0);
    const selfPayClaims = after.parameter!.filter((p) => p.name === 'claim' && mine.find((e) => `Claim/${e.claimId}` === part(p, 'claim')!.valueReference!.reference)?.payer === 'self-pay');
    expect(selfPayClaims.length).toBeGreaterThan(0);
    for (const c of selfPayClaims) expect(part(c, 'stage')?.valueCode).toBe('closed');
    expect((await fhir(s.baseUrl, 'POST', `Invoice/${invoice.id}/$pay?amount=1.00`)).status).toBe(422);
  });
});
