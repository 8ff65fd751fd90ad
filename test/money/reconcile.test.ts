/**
 * Issue 21 "Show": 2,000 claims of 400 patients, dates of service spread over five months, adjudicated by the seeded
 * simulated payer (paid, deductible, partly paid, denied; lines returned without modifiers or split; 60 payments
 * reversed and corrected) into five 835 files posted over HTTP. Afterwards every patient's balances, the aging table
 * (by payer and by patient) and the invoices equal sums the test makes on its own from the payer's decisions, to the
 * cent; posting a file again changes nothing; an 835 that does not balance is refused whole.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Invoice, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { loadSentClaims, type Loaded, type LoadedClaim } from '../claims/load-claims.js';
import { adjudicate, reverseAndCorrect, write835, type LineShape, type PaidClaim } from '../claims/payer.js';

const CLAIMS = 2000;
const PATIENTS = 400;
const AS_OF = '2026-12-15';
const DAY = 86_400_000;
const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const cents = (m: { valueMoney?: { value?: number } } | undefined) => Math.round((m?.valueMoney?.value ?? NaN) * 100);
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);

interface Owed {
  billed: number;
  paid: number;
  adjusted: number;
  patient: number;
}

/** What the payer's decision leaves on one claim, summed from its lines (CLP03 = the claim's charge). */
function owedBy(c: PaidClaim): Owed {
  const adjustments = c.lines.flatMap((l) => l.adjustments);
  const patient = adjustments.filter((a) => a.group === 'PR').reduce((s, a) => s + a.amount, 0);
  return { billed: c.charge, paid: c.paid, adjusted: adjustments.filter((a) => a.group !== 'PR').reduce((s, a) => s + a.amount, 0), patient };
}

function bucketOf(date: string): number {
  const age = Math.round((Date.parse(`${AS_OF}T00:00:00Z`) - Date.parse(`${date}T00:00:00Z`)) / DAY);
  return [30, 60, 90, 120].findIndex((limit) => age <= limit) === -1 ? 4 : [30, 60, 90, 120].findIndex((limit) => age <= limit);
}

describeEachEngine('2,000 claims\' remittances reconcile to the cent', (engine) => {
  let s: TestServer;
  let loaded: LoadedClaim[];
  let example: Loaded['example'];
  let files: string[];
  /** Each claim's final decision by control number (a correction replaces the payment it reverses). */
  const final = new Map<string, PaidClaim>();

  const post835 = async (text: string) => {
    const reply = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: text });
    return { status: reply.status, body: (await reply.json()) as OperationOutcome };
  };
  const count = async (query: string) => ((await fhir<{ total: number }>(s.baseUrl, 'GET', `${query}${query.includes('?') ? '&' : '?'}_summary=count`)).body.total);
  const counts = async () => ({ responses: await count('ClaimResponse'), active: await count('ClaimResponse?status=active'), payments: await count('PaymentReconciliation'), tasks: await count('Task'), files: await count('DocumentReference') });

  beforeAll(async () => {
    s = await startTestServer(engine);
    const client = {
      transaction: async (entry: unknown[]) => {
        const reply = await fhir<{ entry: Array<{ response: { location: string } }> }>(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry });
        expect(reply.status, reply.text.slice(0, 300)).toBe(200);
        return reply.body.entry;
      },
      get: async (p: string) => (await fhir(s.baseUrl, 'GET', p)).body,
    };
    // Dates of service from 2026-07-01 on, 7 days apart per claim, wrapping at 150 days: every aging bucket is used.
    const date = (k: number) => new Date(Date.parse('2026-07-01T00:00:00Z') + ((k * 7) % 150) * DAY).toISOString().slice(0, 10);
    const result = await loadSentClaims(client, { claims: CLAIMS, patients: PATIENTS, date });
    loaded = result.loaded;
    example = result.example;
    const shapes: Record<string, LineShape> = {};
    result.sent.forEach((c, k) => {
      if (k % 13 === 0) shapes[c.controlNumber] = 'no-modifiers';
      else if (k % 17 === 0) shapes[c.controlNumber] = 'split';
    });
    const decided = adjudicate([{ interchange: '1', group: '1', transactions: ['1'], receiverId: '', usage: 'T', claims: result.sent }], { seed: 2021, denied: 0.1, partly: 0.15, deductible: 0.15, shapes });
    files = [0, 1, 2, 3].map((i) => write835(decided.slice(i * 500, (i + 1) * 500), { seed: 2021, trace: `REC-${i}`, control: 5100 + i }));
    const corrected = reverseAndCorrect(decided.filter((c) => c.outcome !== 'denied').slice(0, 60), 300);
    files.push(write835(corrected, { seed: 2022, trace: 'REC-CORR', control: 5199 }));
    for (const c of [...decided, ...corrected]) if (c.status !== '22') final.set(c.controlNumber, c);
  }, 300_000);
  afterAll(async () => s?.close());

  it('five 835 files post: 2,000 claims paid once each, 60 of them reversed and corrected', async () => {
    for (const text of files) {
      const reply = await post835(text);
      expect(reply.status, JSON.stringify(reply.body).slice(0, 300)).toBe(200);
    }
    const after = await counts();
    expect(after.active).toBe(CLAIMS);
    expect(after.responses).toBe(CLAIMS + 60);
    expect(after.payments).toBe(5);
  }, 300_000);

  it('posting a file again changes nothing, and an 835 that does not balance is refused whole', async () => {
    const before = await counts();
    const again = await post835(files[1]!);
    expect(again.status).toBe(200);
    expect(again.body.issue?.[0]?.details?.text).toMatch(/processed before|posted before/);
    // A new payment of 20 claims whose 7th CLP04 is a cent off: nothing of it is posted.
    const fresh = write835([...final.values()].slice(100, 120), { seed: 7, trace: 'REC-BAD', control: 5200 });
    const lines = fresh.split('\n');
    const clp = lines.map((l, i) => [l, i] as const).filter(([l]) => l.startsWith('CLP*'))[6]![1];
    const el = lines[clp]!.replace(/~$/, '').split('*');
    el[4] = (Number(el[4]) + 0.01).toFixed(2);
    lines[clp] = `${el.join('*')}~`;
    const refused = await post835(lines.join('\n'));
    expect(refused.status).toBe(400);
    expect(JSON.stringify(refused.body)).toMatch(/does not balance/);
    expect(await counts()).toEqual(before);
  }, 120_000);

  it('every patient\'s balances equal the sums of the payer\'s decisions', async () => {
    const expected = new Map<string, Owed>();
    for (const c of loaded) {
      const o = owedBy(final.get(c.controlNumber)!);
      const into = expected.get(c.patient) ?? { billed: 0, paid: 0, adjusted: 0, patient: 0 };
      expected.set(c.patient, { billed: into.billed + o.billed, paid: into.paid + o.paid, adjusted: into.adjusted + o.adjusted, patient: into.patient + o.patient });
    }
    const patients = [...expected.keys()];
    for (let i = 0; i < patients.length; i += 20) {
      await Promise.all(
        patients.slice(i, i + 20).map(async (p) => {
          const reply = await fhir<Parameters>(s.baseUrl, 'GET', `${p}/$balance`);
          const e = expected.get(p)!;
          const got = ['billed', 'insurance-paid', 'payer-adjustments', 'patient-balance', 'payer-balance'].map((n) => cents(param(reply.body, n)));
          expect(got, p).toEqual([e.billed, e.paid, e.adjusted, e.patient, e.billed - e.paid - e.adjusted - e.patient]);
        }),
      );
    }
  }, 120_000);

  it('the aging table by payer and by patient equals the test\'s own buckets of what is owed', async () => {
    const buckets = [0, 0, 0, 0, 0];
    const byPatient = new Map<string, number>();
    for (const c of loaded) {
      const o = owedBy(final.get(c.controlNumber)!);
      const owed = o.billed - o.paid - o.adjusted;
      if (owed === 0) continue;
      buckets[bucketOf(c.date)]! += owed;
      byPatient.set(c.patient, (byPatient.get(c.patient) ?? 0) + owed);
    }
    // The example session's own claim, billed and never sent: its payer owes all of it.
    buckets[bucketOf(example.date)]! += example.total;
    byPatient.set(example.patient, (byPatient.get(example.patient) ?? 0) + example.total);
    const sum = buckets.reduce((a, b) => a + b, 0);
    expect(sum).toBeGreaterThan(0);
    expect(buckets.every((b) => b > 0)).toBe(true);
    for (const by of ['payer', 'patient']) {
      const table = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?by=${by}&as-of=${AS_OF}`)).body;
      const total = param(table, 'total');
      expect(['0-30', '31-60', '61-90', '91-120', 'over-120'].map((b) => cents(part(total, b)))).toEqual(buckets);
      expect(cents(part(total, 'total'))).toBe(sum);
      if (by === 'patient') {
        const groups = (table.parameter ?? []).filter((p) => p.name === 'group');
        expect(groups.length).toBe(byPatient.size);
        for (const g of groups) expect(cents(part(g, 'total')), part(g, 'key')?.valueString).toBe(byPatient.get(part(g, 'key')!.valueString!));
      }
    }
  }, 120_000);

  it('invoices bill each patient what the payers left her, and her payments bring patient and aging balances down by as much', async () => {
    const owedBy_ = new Map<string, number>();
    for (const c of loaded) owedBy_.set(c.patient, (owedBy_.get(c.patient) ?? 0) + owedBy(final.get(c.controlNumber)!).patient);
    const chosen = [...owedBy_].filter(([, owed]) => owed > 0).slice(0, 40);
    expect(chosen.length).toBe(40);
    const agingTotal = async () => cents(part(param((await fhir<Parameters>(s.baseUrl, 'GET', `Claim/$aging?as-of=${AS_OF}`)).body, 'total'), 'total'));
    const before = await agingTotal();
    let paid = 0;
    for (const [patient, owed] of chosen) {
      const invoice = await fhir<Invoice>(s.baseUrl, 'POST', `${patient}/$invoice`, { resourceType: 'Parameters', parameter: [{ name: 'end', valueDate: '2026-12-01' }] });
      expect(invoice.status, invoice.text.slice(0, 300)).toBe(201);
      expect(Math.round(invoice.body.totalNet!.value! * 100), patient).toBe(owed);
      const pay = await fhir(s.baseUrl, 'POST', `Invoice/${invoice.body.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: (owed / 100).toFixed(2) }, { name: 'identifier', valueString: `REC-${patient}` }] });
      expect(pay.status, pay.text.slice(0, 300)).toBe(201);
      paid += owed;
      expect((await fhir<Invoice>(s.baseUrl, 'GET', `Invoice/${invoice.body.id}`)).body.status).toBe('balanced');
      expect(cents(param((await fhir<Parameters>(s.baseUrl, 'GET', `${patient}/$balance`)).body, 'patient-balance'))).toBe(0);
    }
    expect(await agingTotal()).toBe(before - paid);
  }, 300_000);
});
