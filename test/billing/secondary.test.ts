/**
 * The rules of a secondary claim, without a server (src/billing/secondary.ts, src/money/postings.ts): which Coverage is
 * next, which remittance calls for one, what the 837P cannot carry, what it posts to the ledger, and that it does not
 * count twice toward the therapy threshold (KX).
 */
import { describe, expect, it } from 'vitest';
import type { Claim, ClaimResponse, ClaimResponseItemAdjudication, Coverage } from '@medplum/fhirtypes';
import { buildSecondaryClaim, nextCoverage, priorAdjudicationOf, secondaryControlNumber, secondaryProblems, wantsSecondary, CLAIM_STATUS_EXTENSION } from '../../src/billing/secondary.js';
import { claimPostings, remittancePostings } from '../../src/money/postings.js';
import { priorAllowedFromClaims } from '../../src/billing/prior.js';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';

const GROUP = 'http://stride-fhir.org/fhir/CodeSystem/adjustment-group';
const ADJ = 'http://terminology.hl7.org/CodeSystem/adjudication';
const usd = (cents: number) => ({ value: cents / 100, currency: 'USD' as const });
const cas = (group: string, reason: string, cents: number): ClaimResponseItemAdjudication => ({ category: { coding: [{ system: GROUP, code: group }] }, reason: { coding: [{ system: 'https://x12.org/codes/claim-adjustment-reason-codes', code: reason }] }, amount: usd(cents) });
const benefit = (cents: number): ClaimResponseItemAdjudication => ({ category: { coding: [{ system: ADJ, code: 'benefit' }] }, amount: usd(cents) });

const coverage = (id: string, order: number | undefined, extra: Partial<Coverage> = {}): Coverage => ({ resourceType: 'Coverage', id, status: 'active', beneficiary: { reference: 'Patient/p' }, payor: [{ reference: `Organization/${id}-payer` }], ...(order !== undefined ? { order } : {}), ...extra });

const primary: Claim = {
  resourceType: 'Claim',
  id: 'c1',
  identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: 'Patient/p|2026-11-03|Coverage/a|Organization/clinic' }],
  status: 'active',
  type: { coding: [{ code: 'professional' }] },
  use: 'claim',
  patient: { reference: 'Patient/p' },
  created: '2026-11-03',
  provider: { reference: 'Organization/clinic' },
  priority: { coding: [{ code: 'normal' }] },
  insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/a' } }],
  item: [
    { sequence: 1, productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97116' }] }, modifier: [{ coding: [{ code: 'GP' }] }], servicedDate: '2026-11-03', quantity: { value: 2 }, net: usd(20000) },
    { sequence: 2, productOrService: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97110' }] }, modifier: [{ coding: [{ code: 'GP' }] }], servicedDate: '2026-11-03', quantity: { value: 1 }, net: usd(10000) },
  ],
  total: usd(30000),
};

/** Line 1: CO-45 50.00, PR-1 30.00, PR-2 24.00, paid 96.00; line 2: CO-45 20.00, PR-2 16.00, paid 64.00. */
const response = (status = '1', extra: Partial<ClaimResponse> = {}): ClaimResponse => ({
  resourceType: 'ClaimResponse',
  id: 'r1',
  extension: [{ url: CLAIM_STATUS_EXTENSION, valueCode: status }],
  status: 'active',
  type: primary.type,
  use: 'claim',
  patient: primary.patient,
  created: '2026-12-01T10:00:00Z',
  insurer: { reference: 'Organization/a-payer' },
  request: { reference: 'Claim/c1' },
  outcome: 'complete',
  item: [
    { itemSequence: 1, adjudication: [cas('CO', '45', 5000), cas('PR', '1', 3000), cas('PR', '2', 2400), benefit(9600)] },
    { itemSequence: 2, adjudication: [cas('CO', '45', 2000), cas('PR', '2', 1600), benefit(6400)] },
  ],
  payment: { type: { coding: [{ code: 'complete' }] }, amount: usd(16000) },
  ...extra,
});

describe('the next Coverage', () => {
  it('is the active one of the lowest order above the primary\'s, in force on the date, paid by an Organization', () => {
    const a = coverage('a', 1);
    const list = [a, coverage('c', 3), coverage('b', 2), coverage('x', 2, { status: 'cancelled' }), coverage('y', 2, { period: { end: '2026-10-31' } }), coverage('z', 2, { payor: [{ reference: 'Patient/p' }] })];
    expect(nextCoverage(list, a, '2026-11-03')?.id).toBe('b');
    expect(nextCoverage(list.filter((c) => c.id !== 'b'), a, '2026-11-03')?.id).toBe('c');
    expect(nextCoverage([a, coverage('y', 2, { period: { start: '2026-11-04' } })], a, '2026-11-03')).toBeUndefined();
    expect(nextCoverage([a], a, '2026-11-03')).toBeUndefined();
    // Nothing ranks below the primary: a Coverage of a lower order is not "next".
    expect(nextCoverage([coverage('a2', 2), coverage('low', 1)], coverage('a2', 2), '2026-11-03')).toBeUndefined();
  });
});

describe('a remittance calls for a secondary claim', () => {
  it('when it leaves the patient a balance, or the payer forwarded the claim; not when the patient owes nothing', () => {
    expect(wantsSecondary(response())).toBe(true);
    const paidInFull = response('1', { item: [{ itemSequence: 1, adjudication: [cas('CO', '45', 5000), benefit(15000)] }], payment: { type: { coding: [{ code: 'complete' }] }, amount: usd(15000) } });
    expect(wantsSecondary(paidInFull)).toBe(false);
    for (const status of ['19', '20', '21']) expect(wantsSecondary({ ...paidInFull, extension: [{ url: CLAIM_STATUS_EXTENSION, valueCode: status }] })).toBe(true);
    expect(priorAdjudicationOf(response())).toEqual({ paid: 16000, payerAdjustment: 7000, patientResponsibility: 7000 });
  });
});

describe('the secondary claim', () => {
  const built = buildSecondaryClaim({ primary, response: response(), coverage: coverage('b', 2), payerName: 'Lakeside' });
  it('bills the same services to the next payer, the primary\'s remittance attached, under its own control number', () => {
    expect(built.insurer).toEqual({ reference: 'Organization/b-payer', display: 'Lakeside' });
    expect(built.insurance?.map((i) => [i.sequence, i.focal, i.coverage.reference, i.claimResponse?.reference])).toEqual([[1, false, 'Coverage/a', 'ClaimResponse/r1'], [2, true, 'Coverage/b', undefined]]);
    expect(built.item).toEqual(primary.item);
    expect(built.identifier?.find((i) => i.system?.endsWith('patient-control-number'))?.value).toBe(secondaryControlNumber(primary));
    expect(built.identifier?.some((i) => i.system?.endsWith('/billing-key'))).toBe(false);
    expect(secondaryProblems(built, response())).toEqual([]);
  });

  it('is held when the primary\'s adjudication has lines the 837P cannot carry line by line', () => {
    const bundled = response('1', { addItem: [{ productOrService: { coding: [{ code: '97530' }] }, adjudication: [cas('CO', '97', 1000)] }] });
    expect(secondaryProblems(built, bundled)[0]).toMatch(/match no single line/);
    const informational = response('1', { addItem: [{ productOrService: { coding: [{ code: '99070' }] }, adjudication: [benefit(0)] }] });
    expect(secondaryProblems(built, informational)).toEqual([]);
    const oneLine = response('1', { item: [response().item![0]!] });
    expect(secondaryProblems(built, oneLine)[0]).toMatch(/nothing of line\(s\) 2/);
    // Adjudicated as a whole (no line): the claim-level loops carry it.
    expect(secondaryProblems(built, response('1', { item: undefined, adjudication: [cas('PR', '2', 7000)] }))).toEqual([]);
  });

  it('moves the primary\'s patient responsibility to itself in the ledger, and the secondary payer\'s OA-23 is not posted again', () => {
    expect(claimPostings({ ...built, id: 's1' }, false)).toEqual([
      { claimId: 's1', kind: 'billed', amount: 7000 },
      { claimId: 'c1', kind: 'billed', amount: -7000 },
      { claimId: 'c1', kind: 'patient-responsibility', amount: -7000 },
    ]);
    const secondaryAnswer: ClaimResponse = { ...response('2'), id: 'r2', request: { reference: 'Claim/s1' }, item: [{ itemSequence: 1, adjudication: [cas('OA', '23', 23000), cas('PR', '1', 3000), benefit(4000)] }], payment: { type: { coding: [{ code: 'complete' }] }, amount: usd(4000) } };
    expect(remittancePostings(secondaryAnswer)).toEqual([
      { claimId: 's1', kind: 'insurance-paid', amount: 4000 },
      { claimId: 's1', kind: 'payer-adjustment', amount: 0 },
      { claimId: 's1', kind: 'patient-responsibility', amount: 3000 },
    ]);
  });

  it('does not count toward the therapy threshold a second time (KX)', () => {
    const fees = loadFeeSchedule();
    const once = priorAllowedFromClaims([primary], fees);
    expect(once.length).toBe(2);
    expect(priorAllowedFromClaims([primary, { ...built, id: 's1' }], fees)).toEqual(once);
  });
});
