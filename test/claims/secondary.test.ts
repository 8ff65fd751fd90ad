/**
 * Secondary claims over HTTP (issue 21 §2): a patient with a second Coverage; the primary payer's 835 leaves her
 * deductible and coinsurance; Stride builds the secondary Claim with the primary's adjudication, ready; $submit sends
 * it to the secondary payer as an 837P with SBR*S and the 2320/2330/2430 loops (read back with node-x12 and compared
 * with the primary's remittance, line by line, and balanced as the guide requires); the secondary payer's 835 (OA-23
 * for the primary's share) posts to it; the balances move from the primary to the secondary payer to the patient and
 * stay equal to the sums. A crossover (CLP02 19) is awaited, not sent, and the crossover payer's answer under the
 * primary's claim number posts to the secondary; a reversal of the primary cancels the secondary, a correction
 * rebuilds it; a patient with one Coverage gets no secondary claim.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Claim, ClaimResponse, Coverage, Invoice, OperationOutcome, Parameters, ParametersParameter } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { createPatient, createPractice, searchAll, type Practice } from './practice.js';
import { read837P, type SentClaim } from './read-837p.js';
import { adjudicate, reverseAndCorrect, write835, type PaidClaim, type PaidLine } from './payer.js';

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const param = (p: Parameters, name: string) => p.parameter?.find((x) => x.name === name);
const money = (p: Parameters, name: string) => Math.round((param(p, name)?.valueMoney?.value ?? NaN) * 100);
const stage = (c: Claim) => c.extension?.find((e) => e.url.endsWith('/claim-stage'))?.valueCode;
const pcn = (c: Claim) => c.identifier!.find((i) => i.system?.endsWith('patient-control-number'))!.value!;
const pr = (lines: readonly PaidLine[], reason?: string) => lines.flatMap((l) => l.adjustments).filter((a) => a.group === 'PR' && (!reason || a.reason === reason)).reduce((s, a) => s + a.amount, 0);
const priorPart = (c: Claim, name: string) => Math.round((c.insurance![0]!.extension![0]!.extension!.find((e) => e.url === name)!.valueMoney!.value ?? NaN) * 100);

/** The secondary payer: it pays what the primary put on the patient but the deductible, which stays hers (PR-1). */
function secondaryPays(sent: SentClaim, payerClaimNumber: string, controlNumber = sent.controlNumber): PaidClaim {
  const lines: PaidLine[] = sent.lines.map((l, i) => {
    const charge = Math.round(l.charge * 100);
    const other = l.otherAdjustments ?? [];
    const prior = (l.otherPaid ?? 0) + other.filter((a) => a.group !== 'PR').reduce((s, a) => s + a.amount, 0);
    const deductible = other.filter((a) => a.group === 'PR' && a.reason === '1').reduce((s, a) => s + a.amount, 0);
    const adjustments = [{ group: 'OA' as const, reason: '23', amount: prior }, ...(deductible ? [{ group: 'PR' as const, reason: '1', amount: deductible }] : [])];
    return { code: l.code, modifiers: l.modifiers, date: l.date, units: l.units, charge, paid: charge - prior - deductible, allowed: charge - prior, adjustments, remarks: [], item: i + 1 };
  });
  return { controlNumber, status: '2', outcome: 'paid', charge: Math.round(sent.total * 100), paid: lines.reduce((s, l) => s + l.paid, 0), payerClaimNumber, memberId: sent.memberId, lines };
}

describeEachEngine('secondary claims', (engine) => {
  let s: TestServer;
  let practice: Practice;
  beforeAll(async () => {
    s = await startTestServer(engine);
    practice = await createPractice(s.baseUrl);
  }, 300_000);
  afterAll(async () => s?.close());

  const post835 = async (text: string) => {
    const reply = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: text });
    const body = (await reply.json()) as OperationOutcome;
    expect(reply.status, JSON.stringify(body).slice(0, 500)).toBe(200);
    return body;
  };
  const balance = async (ref: string) => (await fhir<Parameters>(s.baseUrl, 'GET', `${ref}/$balance`)).body;
  const submit = async (claims: readonly Claim[]) => {
    const reply = await fhir<Parameters>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter: claims.map((c) => ({ name: 'claim', valueReference: { reference: `Claim/${c.id}` } })) });
    expect(reply.status, reply.text.slice(0, 500)).toBe(200);
    const files = (reply.body.parameter ?? []).filter((p) => p.name === 'file');
    expect(files).toHaveLength(1);
    return read837P(await (await fetch(`${s.baseUrl}/${part(files[0], 'binary')!.valueReference!.reference}`, { headers: { Accept: 'application/edi-x12' } })).text());
  };
  /** A Medicare patient (her Coverage order 1) with a Lakeside Health Plan Coverage (order 2) unless `single`. */
  const patientWithTwo = async (family: string, date: string, single = false) => {
    const keys = await createPatient(s.baseUrl, practice, { payer: practice.payers[0]!, clinic: practice.clinics[0]!, family, sessions: [{ date, services: [{ name: 'gait', minutes: 38 }, { name: 'exercise', minutes: 15 }] }] });
    const primaryCoverage = (await fhir<Coverage>(s.baseUrl, 'GET', keys.coverage!)).body;
    expect((await fhir(s.baseUrl, 'PUT', keys.coverage!, { ...primaryCoverage, order: 1 })).status).toBe(200);
    let secondary: string | undefined;
    if (!single) {
      const coverage: Coverage = { resourceType: 'Coverage', status: 'active', type: { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code: '5' }] }, subscriberId: `LHP-${family}`, beneficiary: { reference: keys.patient! }, relationship: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/subscriber-relationship', code: 'self' }] }, payor: [{ reference: practice.payers[1]!.ref }], order: 2 };
      const created = await fhir<Coverage>(s.baseUrl, 'POST', 'Coverage', coverage);
      expect(created.status, created.text.slice(0, 300)).toBe(201);
      secondary = `Coverage/${created.body.id}`;
    }
    const [primary] = await searchAll<Claim>(s.baseUrl, `Claim?patient=${keys.patient}&stage=ready`);
    expect(primary, 'the primary claim is ready').toBeDefined();
    return { patient: keys.patient!, primary: primary!, primaryCoverage: keys.coverage!, secondary };
  };
  /** The primary payer (Medicare) adjudicates: allowed by the fee schedule, a deductible, 20% coinsurance. */
  const primaryPays = async (claim: Claim, trace: string, status = '1') => {
    const sent = await submit([claim]);
    const [paid] = adjudicate([sent], { seed: 11, outcomes: { [pcn(claim)]: 'deductible' }, coinsurance: 0.2 });
    const decided = { ...paid!, status };
    await post835(write835([decided], { seed: 11, trace, payerId: 'MCRB-IL', payerName: 'MEDICARE PART B', control: 9000 + trace.length }));
    return decided;
  };
  const secondaryOf = async (patient: string, primary: Claim) => (await searchAll<Claim>(s.baseUrl, `Claim?patient=${patient}`)).filter((c) => c.id !== primary.id);

  let a: Awaited<ReturnType<typeof patientWithTwo>>;
  let primaryPaid: PaidClaim;
  let secondary: Claim;
  let sentSecondary: SentClaim;

  it('the primary\'s 835 leaving the patient a balance builds the secondary claim, ready, and moves the balance to the secondary payer', async () => {
    a = await patientWithTwo('Lindqvist', '2026-11-03');
    primaryPaid = await primaryPays(a.primary, 'PRI-A');
    const owed = pr(primaryPaid.lines);
    expect(owed).toBeGreaterThan(0);
    const found = await secondaryOf(a.patient, a.primary);
    expect(found).toHaveLength(1);
    secondary = found[0]!;
    const [response] = (await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${a.primary.id}`)).filter((r) => r.status === 'active');
    expect(secondary.status).toBe('active');
    expect(stage(secondary)).toBe('ready');
    expect(secondary.insurer?.reference).toBe(practice.payers[1]!.ref);
    expect(secondary.insurance).toEqual([
      expect.objectContaining({ sequence: 1, focal: false, coverage: { reference: a.primaryCoverage }, claimResponse: { reference: `ClaimResponse/${response!.id}` } }),
      { sequence: 2, focal: true, coverage: { reference: a.secondary } },
    ]);
    expect(secondary.related?.[0]?.claim?.reference).toBe(`Claim/${a.primary.id}`);
    expect(secondary.item).toEqual(a.primary.item);
    expect(secondary.total).toEqual(a.primary.total);
    expect(pcn(secondary)).not.toBe(pcn(a.primary));
    expect(priorPart(secondary, 'paid')).toBe(primaryPaid.paid);
    expect(priorPart(secondary, 'patient-responsibility')).toBe(owed);
    // The primary has nothing left to collect; the secondary payer owes what the primary put on the patient.
    const primary = await balance(`Claim/${a.primary.id}`);
    expect([money(primary, 'payer-balance'), money(primary, 'patient-balance')]).toEqual([0, 0]);
    expect(param(primary, 'stage')?.valueCode).toBe('closed');
    const second = await balance(`Claim/${secondary.id}`);
    expect([money(second, 'payer-balance'), money(second, 'patient-balance')]).toEqual([owed, 0]);
    const patient = await balance(a.patient);
    expect([money(patient, 'payer-balance'), money(patient, 'patient-balance')]).toEqual([owed, 0]);
    // $aging by payer counts it under the secondary payer.
    const aging = await fhir<Parameters>(s.baseUrl, 'GET', 'Claim/$aging?by=payer&as-of=2026-12-20');
    const group = aging.body.parameter?.find((p) => p.name === 'group' && part(p, 'key')?.valueString === practice.payers[1]!.ref);
    expect(group, JSON.stringify(aging.body).slice(0, 400)).toBeDefined();
  });

  it('$submit sends it to the secondary payer as an 837P with SBR*S and the primary\'s adjudication in loops 2320-2430, balanced', async () => {
    const sent = await submit([secondary]);
    sentSecondary = sent.claims[0]!;
    expect(sent.claims).toHaveLength(1);
    expect(sentSecondary.controlNumber).toBe(pcn(secondary));
    expect(sentSecondary.responsibility).toBe('S');
    expect(sentSecondary.payerId).toBe('LHP01');
    expect(sentSecondary.memberId).toBe('LHP-LINDQVIST');
    const other = sentSecondary.otherPayer!;
    expect(other).toMatchObject({ responsibility: 'P', paid: primaryPaid.paid, patientLiability: pr(primaryPaid.lines), payerId: 'MCRB-IL', adjustments: [] });
    expect(other.memberId).toBe(primaryPaid.memberId);
    expect(sentSecondary.lines).toHaveLength(primaryPaid.lines.length);
    for (const [k, line] of sentSecondary.lines.entries()) {
      const decided = primaryPaid.lines[k]!;
      expect(line.otherPaid).toBe(decided.paid);
      expect([...(line.otherAdjustments ?? [])].sort((x, y) => x.reason.localeCompare(y.reason))).toEqual([...decided.adjustments].sort((x, y) => x.reason.localeCompare(y.reason)));
      // 005010X222A1 line balancing: the charge is what the prior payer paid plus its adjustments.
      expect(Math.round(line.charge * 100)).toBe((line.otherPaid ?? 0) + (line.otherAdjustments ?? []).reduce((t, x) => t + x.amount, 0));
    }
    expect(stage((await fhir<Claim>(s.baseUrl, 'GET', `Claim/${secondary.id}`)).body)).toBe('submitted');
  });

  it('the secondary payer\'s 835 posts to the secondary claim; the patient owes only what neither paid, and is invoiced for it', async () => {
    const decided = secondaryPays(sentSecondary, 'LHP-9001');
    await post835(write835([decided], { seed: 12, trace: 'SEC-A', payerId: 'LHP01', payerName: 'LAKESIDE HEALTH PLAN', control: 9101 }));
    const responses = await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${secondary.id}`);
    expect(responses.filter((r) => r.status === 'active')).toHaveLength(1);
    expect(Math.round(responses[0]!.payment!.amount!.value! * 100)).toBe(decided.paid);
    // The primary's posting is untouched.
    expect((await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${a.primary.id}`)).filter((r) => r.status === 'active')).toHaveLength(1);
    const deductible = pr(primaryPaid.lines, '1');
    const second = await balance(`Claim/${secondary.id}`);
    expect([money(second, 'insurance-paid'), money(second, 'payer-balance'), money(second, 'patient-balance')]).toEqual([decided.paid, 0, deductible]);
    // Every cent of the charge is accounted for once: primary paid + its write-off + secondary paid + patient.
    const total = Math.round(a.primary.total!.value! * 100);
    const writeOff = primaryPaid.lines.flatMap((l) => l.adjustments).filter((x) => x.group === 'CO').reduce((t, x) => t + x.amount, 0);
    expect(primaryPaid.paid + writeOff + decided.paid + deductible).toBe(total);
    const patient = await balance(a.patient);
    expect([money(patient, 'payer-balance'), money(patient, 'patient-balance'), money(patient, 'insurance-paid')]).toEqual([0, deductible, primaryPaid.paid + decided.paid]);
    const invoice = await fhir<Invoice>(s.baseUrl, 'POST', `${a.patient}/$invoice`, { resourceType: 'Parameters', parameter: [{ name: 'end', valueDate: '2026-11-30' }] });
    expect(invoice.status, invoice.text.slice(0, 400)).toBe(201);
    expect(Math.round(invoice.body.totalNet!.value! * 100)).toBe(deductible);
    expect(Math.round(invoice.body.totalGross!.value! * 100)).toBe(total);
    expect(invoice.body.lineItem!.every((l) => l.extension!.some((e) => e.valueReference?.reference === `Claim/${secondary.id}`))).toBe(true);
  });

  it('a crossover (CLP02 19) is awaited, not sent again, and the crossover payer\'s answer under the primary\'s number posts to the secondary', async () => {
    const b = await patientWithTwo('Achterberg', '2026-11-04');
    const primaryDecided = await primaryPays(b.primary, 'PRI-B-X', '19');
    const [crossed] = await secondaryOf(b.patient, b.primary);
    expect(crossed).toBeDefined();
    expect(stage(crossed!)).toBe('submitted');
    expect(crossed!.extension?.some((e) => e.url.endsWith('/claim-forwarded'))).toBe(true);
    const dry = await fhir<Parameters>(s.baseUrl, 'POST', 'Claim/$submit', { resourceType: 'Parameters', parameter: [{ name: 'claim', valueReference: { reference: `Claim/${crossed!.id}` } }, { name: 'dry-run', valueBoolean: true }] });
    expect((dry.body.parameter ?? []).filter((p) => p.name === 'file')).toHaveLength(0);
    // The crossover payer got the primary's claim and adjudication from the primary payer, not from Stride, and answers
    // under the primary's claim number; Stride posts it to the secondary claim.
    const lines = primaryDecided.lines.map((l) => ({ code: l.code, modifiers: l.modifiers, charge: l.charge / 100, units: l.units, date: l.date, pointers: [], otherPaid: l.paid, otherAdjustments: l.adjustments }));
    const decided = secondaryPays({ controlNumber: pcn(b.primary), total: b.primary.total!.value!, memberId: 'LHP-Achterberg', lines } as unknown as SentClaim, 'LHP-9002');
    await post835(write835([decided], { seed: 13, trace: 'SEC-B', payerId: 'LHP01', payerName: 'LAKESIDE HEALTH PLAN', control: 9102 }));
    const onSecondary = (await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${crossed!.id}`)).filter((r) => r.status === 'active');
    expect(onSecondary).toHaveLength(1);
    expect(Math.round(onSecondary[0]!.payment!.amount!.value! * 100)).toBe(decided.paid);
    const onPrimary = (await searchAll<ClaimResponse>(s.baseUrl, `ClaimResponse?request=Claim/${b.primary.id}`)).filter((r) => r.status === 'active');
    expect(onPrimary).toHaveLength(1);
    expect(Math.round(onPrimary[0]!.payment!.amount!.value! * 100)).toBe(primaryDecided.paid);
    const patient = await balance(b.patient);
    expect([money(patient, 'payer-balance'), money(patient, 'patient-balance')]).toEqual([0, pr(primaryDecided.lines, '1')]);
  });

  it('a reversal of the primary\'s payment cancels the secondary claim; a correction rebuilds it with the new amounts', async () => {
    const c = await patientWithTwo('Moreau', '2026-11-05');
    const decided = await primaryPays(c.primary, 'PRI-C');
    const [built] = await secondaryOf(c.patient, c.primary);
    expect(built?.status).toBe('active');
    const [reversal, correction] = reverseAndCorrect([decided], 500);
    await post835(write835([reversal!, correction!], { seed: 14, trace: 'PRI-C-2', payerId: 'MCRB-IL', payerName: 'MEDICARE PART B', control: 9201 }));
    const rebuilt = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${built!.id}`)).body;
    expect(rebuilt.status).toBe('active');
    expect(priorPart(rebuilt, 'paid')).toBe(decided.paid + 500);
    expect(rebuilt.insurance![0]!.claimResponse?.reference).not.toBe(built!.insurance![0]!.claimResponse?.reference);
    expect(money(await balance(`Claim/${built!.id}`), 'payer-balance')).toBe(pr(decided.lines));
    await post835(write835([{ ...reversal!, payerClaimNumber: correction!.payerClaimNumber, charge: -correction!.charge, paid: -correction!.paid, lines: correction!.lines.map((l) => ({ ...l, charge: -l.charge, paid: -l.paid, allowed: -l.allowed, adjustments: l.adjustments.map((x) => ({ ...x, amount: -x.amount })) })) }], { seed: 15, trace: 'PRI-C-3', payerId: 'MCRB-IL', payerName: 'MEDICARE PART B', control: 9202 }));
    const cancelled = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${built!.id}`)).body;
    expect(cancelled.status).toBe('cancelled');
    expect(stage(cancelled)).toBe('closed');
    // Unpaid again: the primary payer owes the whole charge, nothing sits on the secondary.
    expect(money(await balance(`Claim/${c.primary.id}`), 'payer-balance')).toBe(Math.round(c.primary.total!.value! * 100));
    expect(money(await balance(c.patient), 'payer-balance')).toBe(Math.round(c.primary.total!.value! * 100));
  });

  it('a patient with one Coverage gets no secondary claim: what the primary left is hers', async () => {
    const d = await patientWithTwo('Ferreira', '2026-11-06', true);
    const decided = await primaryPays(d.primary, 'PRI-D');
    expect(await secondaryOf(d.patient, d.primary)).toEqual([]);
    expect(money(await balance(d.patient), 'patient-balance')).toBe(pr(decided.lines));
  });
});
