/**
 * 835 posting over HTTP against Stride's own batches (issue 21 §1): sessions become Claims, $submit sends them, the
 * simulated payer (payer.ts) adjudicates the 837P files into 835s, $process-x12 posts them. What FHIR says afterwards
 * equals what the payer decided, claim by claim and line by line; stages follow; denied and underpaid lines open Tasks
 * with the CARC text; the same 835 twice, or the same payment in another file, changes nothing; an unbalanced 835 is
 * refused whole; a reversal and its correction leave one active posting; lines returned without modifiers, split or
 * added by the payer are matched (or reported).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, DocumentReference, OperationOutcome, Parameters, ParametersParameter, PaymentReconciliation, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { createPatient, createPractice, searchAll, type Practice } from './practice.js';
import { read837P, type SentFile } from './read-837p.js';
import { reverseAndCorrect, simulatePayer, write835, type PaidClaim } from './payer.js';

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const stage = (c: Claim) => c.extension?.find((e) => e.url.endsWith('/claim-stage'))?.valueCode;
const pcn = (c: Claim) => c.identifier!.find((i) => i.system?.endsWith('patient-control-number'))!.value!;
const cents = (list: ClaimResponseItemAdjudication[] | undefined, code: string) => Math.round((list?.find((a) => a.category.coding?.[0]?.code === code)?.amount?.value ?? 0) * 100);
const casOf = (list: ClaimResponseItemAdjudication[] | undefined) =>
  (list ?? []).filter((a) => a.category.coding?.[0]?.system?.endsWith('/adjustment-group')).map((a) => `${a.category.coding![0]!.code}-${a.reason!.coding![0]!.code} ${Math.round(a.amount!.value! * 100)}`).sort();
const ROUTINE = new Set(['45', '23', '253', '94']);

/** What Stride's stage should be for what the payer decided. */
function expectedStage(c: PaidClaim): string {
  const pr = (l: PaidClaim['lines'][number]) => l.adjustments.filter((a) => a.group === 'PR').reduce((s, a) => s + a.amount, 0);
  if (c.paid <= 0 && c.lines.every((l) => pr(l) <= 0)) return 'denied';
  // Nothing left on the patient either: the ledger (src/money/) closes it.
  if (c.lines.every((l) => pr(l) <= 0)) return 'closed';
  const problem = c.lines.some((l) => (l.charge > 0 && l.paid <= 0 && pr(l) <= 0) || l.adjustments.some((a) => a.group !== 'PR' && a.amount > 0 && !ROUTINE.has(a.reason)));
  return problem ? 'partially-paid' : 'paid';
}

describeEachEngine('$process-x12: 835 remittances post', (engine) => {
  let s: TestServer;
  let practice: Practice;
  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
    await fhir(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters' });
  }, 300_000);
  afterAll(async () => s?.close());

  const post = async (text: string) => {
    const reply = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: text });
    return { status: reply.status, body: (await reply.json()) as OperationOutcome };
  };
  const claim = async (id: string) => (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${id}`)).body;
  const counts = async () => ({
    responses: (await searchAll<ClaimResponse>(s.baseUrl, 'ClaimResponse')).map((r) => `${r.id}:${r.status}`).sort(),
    payments: (await searchAll<PaymentReconciliation>(s.baseUrl, 'PaymentReconciliation')).length,
    tasks: (await searchAll<Task>(s.baseUrl, 'Task')).length,
    files: (await searchAll<DocumentReference>(s.baseUrl, 'DocumentReference')).length,
    stages: (await searchAll<Claim>(s.baseUrl, 'Claim')).map((c) => `${c.id}:${stage(c)}`).sort(),
  });
  /** n patients (gait 38 min + exercise 8: two lines, 97116 x3), their Claims sent; the 837P files read back. */
  const sendClaims = async (n: number, date: string) => {
    const patients = [];
    for (let k = 0; k < n; k++) patients.push(await createPatient(s.baseUrl, practice, { payer: practice.payers[k % 2]!, clinic: practice.clinics[0]!, sessions: [{ date, services: [{ name: 'gait', minutes: 38 }, { name: 'exercise', minutes: 8 }] }] }));
    const claims = (await Promise.all(patients.map((p) => searchAll<Claim>(s.baseUrl, `Claim?patient=${p.patient}&stage=ready`)))).flat();
    const reply = await fhir<Parameters>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter: claims.map((c) => ({ name: 'claim', valueReference: { reference: `Claim/${c.id}` } })) });
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    const files: SentFile[] = [];
    for (const f of (reply.body.parameter ?? []).filter((p) => p.name === 'file')) {
      files.push(read837P(await (await fetch(`${s.baseUrl}/${part(f, 'binary')!.valueReference!.reference}`, { headers: { Accept: 'application/edi-x12' } })).text()));
    }
    const byNumber = new Map((await Promise.all(claims.map((c) => claim(c.id!)))).map((c) => [pcn(c), c]));
    return { files, byNumber };
  };
  /** Each posted claim read back equals the payer's decision: totals, per line amounts and CAS, stage. */
  const expectPosted = async (paid: readonly PaidClaim[], byNumber: Map<string, Claim>) => {
    for (const p of paid) {
      const c = byNumber.get(p.controlNumber)!;
      const active = (await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${c.id}`)).filter((r) => r.status === 'active' && r.meta?.tag?.length);
      expect(active, p.controlNumber).toHaveLength(1);
      const r = active[0]!;
      expect([cents(r.total, 'submitted'), cents(r.total, 'benefit'), Math.round(r.payment!.amount!.value! * 100), r.identifier![0]!.value]).toEqual([p.charge, p.paid, p.paid, p.payerClaimNumber]);
      for (const item of c.item!) {
        const lines = p.lines.filter((l) => l.item === item.sequence);
        const posted = r.item?.find((i) => i.itemSequence === item.sequence);
        expect([cents(posted?.adjudication, 'submitted'), cents(posted?.adjudication, 'benefit'), cents(posted?.adjudication, 'eligible')], `${p.controlNumber} item ${item.sequence}`).toEqual([lines.reduce((s2, l) => s2 + l.charge, 0), lines.reduce((s2, l) => s2 + l.paid, 0), lines.reduce((s2, l) => s2 + l.allowed, 0)]);
        const cas = new Map<string, number>();
        for (const a of lines.flatMap((l) => l.adjustments)) cas.set(`${a.group}-${a.reason}`, (cas.get(`${a.group}-${a.reason}`) ?? 0) + a.amount);
        expect(casOf(posted?.adjudication)).toEqual([...cas].map(([k, v]) => `${k} ${v}`).sort());
        expect(cents(posted?.adjudication, 'deductible')).toBe(cas.get('PR-1') ?? 0);
      }
      expect(stage(await claim(c.id!)), p.controlNumber).toBe(expectedStage(p));
      // The ledger balances to the cent: nothing more from the payer, the PR amounts of every line (bundled, split
      // and added lines included) on the patient.
      const balance = (await fhir<Parameters>(s.baseUrl, 'GET', `Claim/${c.id}/$balance`)).body;
      const money = (name: string) => Math.round((balance.parameter?.find((x) => x.name === name)?.valueMoney?.value ?? NaN) * 100);
      const patientShare = p.lines.flatMap((l) => l.adjustments).filter((a) => a.group === 'PR').reduce((t, a) => t + a.amount, 0);
      expect([money('payer-balance'), money('patient-balance')], `${p.controlNumber} balances`).toEqual([0, patientShare]);
    }
  };

  it('a simulated payer\'s 835 for Stride\'s own batches posts: every claim and line as decided, stages, Tasks with the CARC text; twice changes nothing', async () => {
    const { files, byNumber } = await sendClaims(10, '2026-11-03');
    const numbers = [...byNumber.keys()];
    const outcomes = { [numbers[0]!]: 'denied', [numbers[1]!]: 'partly-paid', [numbers[2]!]: 'deductible', [numbers[3]!]: 'paid' } as const;
    const { x12, claims: paid } = simulatePayer(files, { seed: 21, outcomes, trace: 'T-ROUND-1' });
    const reply = await post(x12);
    expect(reply.status, JSON.stringify(reply.body).slice(0, 1000)).toBe(200);
    await expectPosted(paid, byNumber);
    const [payment] = await searchAll<PaymentReconciliation>(s.baseUrl, `PaymentReconciliation?identifier=${encodeURIComponent('http://stride-fhir.org/fhir/sid/x12-835-trace|SIMPAYER01/T-ROUND-1')}`);
    expect(Math.round(payment!.paymentAmount.value! * 100)).toBe(paid.reduce((t, c) => t + c.paid, 0));
    expect(payment!.detail!.filter((d) => d.request).map((d) => d.request!.reference).sort()).toEqual(paid.map((p) => `Claim/${byNumber.get(p.controlNumber)!.id}`).sort());
    // Denied: CO-50 on every line, a Task per line with the CARC text; partly paid: one line denied (CO-97 or CO-151).
    const denied = byNumber.get(numbers[0]!)!;
    const deniedTasks = await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${denied.id}&code=http://stride-fhir.org/fhir/CodeSystem/billing-task|remit-line-denied&status=requested`);
    expect(deniedTasks).toHaveLength(denied.item!.length);
    expect(deniedTasks[0]!.description).toContain("CO-50 ");
    expect(deniedTasks[0]!.description).toContain("These are non-covered services because this is not deemed a 'medical necessity' by the payer.");
    const partly = paid.find((p) => p.controlNumber === numbers[1])!;
    const reason = partly.lines.find((l) => l.paid === 0)!.adjustments[0]!.reason;
    const [partlyTask] = await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${byNumber.get(numbers[1]!)!.id}&code=http://stride-fhir.org/fhir/CodeSystem/billing-task|remit-line-denied`);
    expect(partlyTask!.description).toContain(`CO-${reason} `);
    // Deductible: PR-1 on the ClaimResponse, stage paid (adjudicated; the patient owes it), no Task.
    expect(stage(await claim(byNumber.get(numbers[2]!)!.id!))).toBe('paid');
    expect(await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${byNumber.get(numbers[3]!)!.id}`)).toEqual([]);
    // The same file again, and the same payment (same TRN and payer) in a file that differs: nothing changes.
    const before = await counts();
    const again = await post(x12);
    expect([again.status, again.body.issue[0]!.details!.text]).toEqual([200, expect.stringMatching(/processed before .* nothing changed/)]);
    const sameTrace = await post(x12.replace(/000007001/g, '000007002').replace(/\*7001\b/g, '*7002'));
    expect([sameTrace.status, sameTrace.body.issue[0]!.details!.text]).toEqual([200, expect.stringMatching(/Payment SIMPAYER01\/T-ROUND-1 was posted before \(PaymentReconciliation\/.*\): nothing changed/)]);
    expect(await counts()).toEqual(before);
  });

  it('an 835 that does not balance, or cannot be read, is refused whole and changes nothing', async () => {
    const { files } = await sendClaims(3, '2026-11-05');
    const { claims: paid } = simulatePayer(files, { seed: 5, trace: 'T-UNBAL' });
    const before = await counts();
    // One claim paid a cent more than its charge less its adjustments (BPR moved too): the claim does not balance.
    const off = paid.map((c, i) => (i === 2 ? { ...c, paid: c.paid + 1 } : c));
    const unbalanced = await post(write835(off, { seed: 5, trace: 'T-UNBAL' }));
    expect(unbalanced.status).toBe(400);
    expect(unbalanced.body.issue[0]!.details!.text).toMatch(/^The 835 does not balance, nothing was recorded: payment T-UNBAL .*claim .* CLP04 .* is not CLP03 .* less its adjustments/);
    // The claims balance but BPR02 does not.
    const text = write835(paid, { seed: 5, trace: 'T-UNBAL' }).replace(/BPR\*I\*([\d.]+)\*/, (_m, amount: string) => `BPR*I*${(Number(amount) + 1).toFixed(2)}*`);
    const bpr = await post(text);
    expect([bpr.status, bpr.body.issue[0]!.details!.text]).toEqual([400, expect.stringMatching(/BPR02 .* is not the claims' payments/)]);
    const amount = await post(write835(paid, { seed: 5, trace: 'T-UNBAL' }).replace(/\nCLP\*([^*]+)\*1\*([\d.]+)\*/, '\nCLP*$1*1*12.345*'));
    expect([amount.status, amount.body.issue[0]!.details!.text]).toEqual([400, expect.stringMatching(/cannot be read, nothing was recorded: line \d+: CLP03: "12.345" is not an amount of money/)]);
    expect(await counts()).toEqual(before);
  });

  it('a reversal (CLP02 22) and its correction cancel the first posting and leave one active, with the corrected amounts', async () => {
    const { files, byNumber } = await sendClaims(2, '2026-11-10');
    const numbers = [...byNumber.keys()];
    const first = simulatePayer(files, { seed: 7, outcomes: { [numbers[0]!]: 'paid', [numbers[1]!]: 'paid' }, trace: 'T-FIRST' });
    expect((await post(first.x12)).status).toBe(200);
    const target = byNumber.get(first.claims[0]!.controlNumber)!;
    const [original] = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${target.id}`);
    const corrected = reverseAndCorrect([first.claims[0]!], 500);
    const reply = await post(write835(corrected, { seed: 7, trace: 'T-CORRECT', control: 7100 }));
    expect(reply.status, JSON.stringify(reply.body).slice(0, 800)).toBe(200);
    expect(reply.body.issue.map((i) => i.details?.text).join('\n')).toContain(`ClaimResponse/${original!.id} reversed`);
    const responses = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${target.id}`);
    expect(responses.find((r) => r.id === original!.id)!.status).toBe('cancelled');
    await expectPosted([corrected[1]!], byNumber);
    expect(cents(responses.find((r) => r.status === 'active')!.total, 'benefit')).toBe(first.claims[0]!.paid + 500);
    const [payment] = await searchAll<PaymentReconciliation>(s.baseUrl, `PaymentReconciliation?identifier=${encodeURIComponent('http://stride-fhir.org/fhir/sid/x12-835-trace|SIMPAYER01/T-CORRECT')}`);
    expect(Math.round(payment!.paymentAmount.value! * 100)).toBe(500);
    // A later payment of the same claim without a reversal supersedes the earlier one too.
    const other = first.claims[1]!.controlNumber;
    const later = simulatePayer(files.map((f) => ({ ...f, claims: f.claims.filter((c) => c.controlNumber === other) })), { seed: 8, outcomes: { [other]: 'partly-paid' }, trace: 'T-LATER', control: 7200 });
    expect((await post(later.x12)).status).toBe(200);
    await expectPosted(later.claims, byNumber);
  });

  it('lines returned without their modifiers, split in units or added by the payer are matched or reported, never paid twice', async () => {
    const { files, byNumber } = await sendClaims(3, '2026-11-12');
    const [a, b, c] = [...byNumber.keys()];
    const { x12, claims: paid } = simulatePayer(files, { seed: 9, outcomes: { [a!]: 'paid', [b!]: 'paid', [c!]: 'paid' }, shapes: { [a!]: 'no-modifiers', [b!]: 'split' }, addedLine: [c!], trace: 'T-SHAPES' });
    const reply = await post(x12);
    expect(reply.status, JSON.stringify(reply.body).slice(0, 800)).toBe(200);
    await expectPosted(paid.map((p) => ({ ...p, lines: p.lines.filter((l) => l.item > 0) })), byNumber);
    const text = reply.body.issue.map((i) => i.details?.text).join('\n');
    expect(text).toMatch(/service line 97116 on 2026-11-12 .* matched item\(s\) 1 \(code-date-units-charge\)/);
    expect(text).toMatch(/service line 97116-GP on 2026-11-12 .* matched item\(s\) 1 \(split\)/);
    expect(text).toMatch(/service line 99070 on 2026-11-12 .* matches no line of the claim; posted as an added line/);
    const added = (await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${byNumber.get(c!)!.id}`))[0]!;
    expect(added.addItem?.[0]?.productOrService.coding?.[0]?.code).toBe('99070');
    expect(await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${byNumber.get(c!)!.id}&code=http://stride-fhir.org/fhir/CodeSystem/billing-task|remit-line-unmatched`)).toHaveLength(1);
  });
  it('a paper EOB keyed in as a ClaimResponse posts like an 835 (source manual, stage, Tasks, supersedes); one that does not balance is refused whole', async () => {
    const { byNumber } = await sendClaims(1, '2026-11-16');
    const [c] = [...byNumber.values()];
    const adj = (system: string, code: string, value: number, reason?: string): ClaimResponseItemAdjudication & { amount: { value: number; currency: 'USD' } } => ({ category: { coding: [{ system, code }] }, ...(reason ? { reason: { coding: [{ system: 'https://x12.org/codes/claim-adjustment-reason-codes', code: reason }] } } : {}), amount: { value, currency: 'USD' } });
    const A = 'http://terminology.hl7.org/CodeSystem/adjudication';
    const G = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
    const items = c!.item!.map((i, k) => {
      const charge = i.net!.value!;
      // The first line paid (allowed 60%, 20% coinsurance), the others denied CO-50.
      if (k > 0) return { itemSequence: i.sequence, adjudication: [adj(A, 'submitted', charge), adj(A, 'eligible', 0), adj(A, 'benefit', 0), adj(G, 'CO', charge, '50')] };
      const allowed = Math.round(charge * 60) / 100;
      const coins = Math.round(allowed * 20) / 100;
      return { itemSequence: i.sequence, adjudication: [adj(A, 'submitted', charge), adj(A, 'eligible', allowed), adj(A, 'benefit', Math.round((allowed - coins) * 100) / 100), adj(G, 'CO', Math.round((charge - allowed) * 100) / 100, '45'), adj(G, 'PR', coins, '2')] };
    });
    const benefit = Math.round(items.reduce((t, i) => t + i.adjudication[2]!.amount!.value! * 100, 0)) / 100;
    const eob: ClaimResponse = { resourceType: 'ClaimResponse', status: 'active', type: c!.type, use: 'claim', patient: c!.patient, created: new Date().toISOString(), insurer: c!.insurer!, request: { reference: `Claim/${c!.id}` }, outcome: 'complete', identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-claim-number', value: 'PAPER-1' }], item: items, total: [adj(A, 'submitted', c!.total!.value!), adj(A, 'benefit', benefit)], payment: { type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/ex-paymenttype', code: 'complete' }] }, amount: { value: benefit, currency: 'USD' }, date: '2026-12-02' } };
    const before = await counts();
    const off = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'ClaimResponse', { ...eob, payment: { ...eob.payment, amount: { value: benefit + 0.01, currency: 'USD' } }, total: [adj(A, 'submitted', c!.total!.value!), adj(A, 'benefit', benefit + 0.01)] });
    expect([off.status, off.body.issue[0]!.details!.text]).toEqual([400, expect.stringMatching(/^The remittance \(ClaimResponse\) does not post, nothing was stored: total submitted .* less the adjustments .* not the payment/)]);
    expect(await counts()).toEqual(before);
    const posted = await fhir<ClaimResponse>(s.baseUrl, 'POST', 'ClaimResponse', eob);
    expect(posted.status, posted.text.slice(0, 500)).toBe(201);
    const stored = (await fhir<ClaimResponse>(s.baseUrl, 'GET', `ClaimResponse/${posted.body.id}`)).body;
    expect(stored.meta?.tag).toEqual([{ system: 'http://stride-fhir.org/fhir/CodeSystem/remittance-source', code: 'manual' }]);
    expect(stage(await claim(c!.id!))).toBe(c!.item!.length > 1 ? 'partially-paid' : 'paid');
    expect(await searchAll<Task>(s.baseUrl, `Task?focus=Claim/${c!.id}&code=http://stride-fhir.org/fhir/CodeSystem/billing-task|remit-line-denied`)).toHaveLength(c!.item!.length - 1);
    // A second EOB for the claim supersedes the first: one active remittance.
    expect((await fhir(s.baseUrl, 'POST', 'ClaimResponse', { ...eob, identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-claim-number', value: 'PAPER-2' }] })).status).toBe(201);
    const all = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${c!.id}`);
    expect(all.map((r) => `${r.identifier?.[0]?.value}:${r.status}`).sort()).toEqual(['PAPER-1:cancelled', 'PAPER-2:active']);
    // A keyed-in payment whose details do not add up to it is refused.
    const payment = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'PaymentReconciliation', { resourceType: 'PaymentReconciliation', meta: { tag: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/remittance-source', code: 'manual' }] }, status: 'active', created: '2026-12-02', paymentDate: '2026-12-02', paymentAmount: { value: benefit, currency: 'USD' }, detail: [{ type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/payment-type', code: 'payment' }] }, request: { reference: `Claim/${c!.id}` }, amount: { value: benefit - 1, currency: 'USD' } }] });
    expect([payment.status, payment.body.issue[0]!.details!.text]).toEqual([400, expect.stringMatching(/details add up to .* not its paymentAmount/)]);
  });
  it('stride x12 FILE... posts an 835 as $process-x12 does', async () => {
    const { files, byNumber } = await sendClaims(1, '2026-11-18');
    const { x12, claims: paid } = simulatePayer(files, { seed: 31, outcomes: { [[...byNumber.keys()][0]!]: 'paid' }, trace: 'T-CLI', control: 7300 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-835-'));
    fs.writeFileSync(path.join(dir, 'era.835'), x12);
    const run = await runCli(['x12', path.join(dir, 'era.835')], s.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/information: Payment T-CLI of [\d.]+ from SIMULATED PAYER: PaymentReconciliation\//);
    await expectPosted(paid, byNumber);
  }, 240_000);
});
