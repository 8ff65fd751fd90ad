import { describe, it, expect } from 'vitest';
import type { Coverage, Encounter, Location, Organization, Procedure } from '@medplum/fhirtypes';
import { loadFeeSchedule, parseFeeSchedule } from '../../src/billing/fee-schedule.js';
import { assertBillingForEvery, billingPolicyFor, parseBillingPolicies } from '../../src/billing/policy.js';
import { readMinutes, readSession } from '../../src/billing/session.js';
import { REF, billingPolicies, billingPolicyOf, exampleFacts, exampleInput, get, payerPolicies } from './support.js';

describe('readSession: the example session (guide §7)', () => {
  const facts = exampleFacts();

  it('reads the three completed procedures in time order with the guide table minutes', () => {
    expect(facts.services.map((s) => [s.code, s.minutes, s.minutesFrom, s.date])).toEqual([
      ['97116', 23, 'timed-minutes', '2026-11-10'],
      ['97110', 15, 'performedPeriod', '2026-11-10'],
      ['97530', 15, 'performedPeriod', '2026-11-10'],
    ]);
  });

  it('takes the discipline from performer.function, else from the PractitionerRole code (PTA -> assistant)', () => {
    const [gait, exercise] = facts.services;
    expect(gait!.performers).toMatchObject([{ discipline: 'PT', assistant: false, taxonomy: '225100000X', practitionerRef: REF.maria, display: 'Maria Alvarez, PT, DPT' }]);
    expect(exercise!.performers).toMatchObject([{ discipline: 'PT', assistant: true, taxonomy: '225200000X', practitionerRef: REF.kevin, documentedMinutes: 15 }]);
  });

  it('reads coverage, payer, member id, billing provider, ranked diagnoses and distinct-service', () => {
    expect(facts.coverage).toMatchObject({ ref: REF.coverage, payerRef: REF.payer, sourceOfPayment: '1', memberId: '1EG4TE5MK73' });
    expect(facts.billingProviderRef).toBe(REF.clinic);
    expect(facts.diagnoses.map((d) => d.coding?.code)).toEqual(['R26.89', 'Z96.641']);
    expect(facts.services.map((s) => s.distinct)).toEqual([false, false, true]);
    expect(facts.placeOfService).toBeNull();
    expect(facts.findings).toEqual([]);
  });
});

describe('readMinutes (guide §3.1)', () => {
  const proc = (extra: Partial<Procedure>): Procedure => ({ resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/1' }, ...extra });

  it('rounds a performedPeriod down to whole minutes: 24 min 59 s counts 24', () => {
    expect(readMinutes(proc({ performedPeriod: { start: '2026-11-10T09:00:00-05:00', end: '2026-11-10T09:24:59-05:00' } }))).toEqual({ minutes: 24, from: 'performedPeriod', problem: null });
  });

  it('prefers the timed-minutes extension over the period', () => {
    const p = proc({
      extension: [{ url: 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes', valueInteger: 12 }],
      performedPeriod: { start: '2026-11-10T09:00:00Z', end: '2026-11-10T09:30:00Z' },
    });
    expect(readMinutes(p)).toEqual({ minutes: 12, from: 'timed-minutes', problem: null });
  });

  // Issue 25 §3: minutes that are missing, zero or negative are not minutes of a service; each says why.
  const minutes = (value: number) => ({ extension: [{ url: 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes', valueInteger: value }] });
  it.each([
    ['no end', { performedPeriod: { start: '2026-11-10T09:00:00Z' } }, /neither the timed-minutes extension nor a performedPeriod/],
    ['nothing at all', {}, /neither the timed-minutes extension nor a performedPeriod/],
    ['a reversed period', { performedPeriod: { start: '2026-11-10T09:30:00Z', end: '2026-11-10T09:00:00Z' } }, /ends \(2026-11-10T09:00:00Z\) before it starts/],
    ['a period of no time', { performedPeriod: { start: '2026-11-10T09:30:00Z', end: '2026-11-10T09:30:00Z' } }, /lasts less than a minute/],
    ['a period of 59 seconds', { performedPeriod: { start: '2026-11-10T09:30:00Z', end: '2026-11-10T09:30:59Z' } }, /lasts less than a minute/],
    ['an extension of 0 (even with a period)', { ...minutes(0), performedPeriod: { start: '2026-11-10T09:00:00Z', end: '2026-11-10T09:30:00Z' } }, /says 0 minutes/],
    ['a negative extension', minutes(-15), /says -15, not a whole number of minutes above 0/],
  ])('has no minutes with %s, and says why', (_what, extra, why) => {
    const read = readMinutes(proc(extra as Partial<Procedure>));
    expect([read.minutes, read.from]).toEqual([null, null]);
    expect(read.problem).toMatch(why);
  });
});

describe('readSession: the contract on variations', () => {
  it('a Practitioner actor without performer.function has no known discipline', () => {
    const facts = exampleFacts((r) => {
      delete get<Procedure>(r, REF.gait).performer![0]!.function;
    });
    expect(facts.services[0]!.performers[0]).toMatchObject({ discipline: null, practitionerRef: REF.maria });
  });

  it('performer.function wins over the PractitionerRole code', () => {
    const facts = exampleFacts((r) => {
      get<Procedure>(r, REF.exercise).performer![0]!.function = { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225X00000X' }] };
    });
    expect(facts.services[1]!.performers[0]).toMatchObject({ discipline: 'OT', assistant: false });
  });

  it('ignores procedures that are not completed or belong to another encounter', () => {
    const facts = exampleFacts((r) => {
      get<Procedure>(r, REF.exercise).status = 'entered-in-error';
      get<Procedure>(r, REF.activities).encounter = { reference: 'Encounter/other' };
    });
    expect(facts.services.map((s) => s.code)).toEqual(['97116']);
  });

  it('orders procedures by the instant they started, across time-zone offsets', () => {
    const facts = exampleFacts((r) => {
      get<Procedure>(r, REF.exercise).performedPeriod = { start: '2026-11-10T13:50:00Z', end: '2026-11-10T14:05:00Z' };
    });
    expect(facts.services.map((s) => s.code)).toEqual(['97110', '97116', '97530']);
  });

  it('orders Encounter.diagnosis by rank, whatever the order written', () => {
    const facts = exampleFacts((r) => {
      get<Encounter>(r, REF.encounter).diagnosis!.reverse();
    });
    expect(facts.diagnoses.map((d) => [d.coding?.code, d.rank])).toEqual([['R26.89', 1], ['Z96.641', 2]]);
  });

  it('reads the place of service from the Encounter Location type', () => {
    const facts = exampleFacts((r) => {
      r.set('Location/home', { resourceType: 'Location', id: 'home', type: [{ coding: [{ system: 'https://www.cms.gov/Medicare/Coding/place-of-service-codes/Place_of_Service_Code_Set', code: '12' }] }] } as Location);
      get<Encounter>(r, REF.encounter).location = [{ location: { reference: 'Location/home' } }];
    });
    expect(facts.placeOfService).toBe('12');
  });

  it('chooses the active Coverage covering the date of service with the lowest order', () => {
    const facts = exampleFacts((r) => {
      const medicare = get<Coverage>(r, REF.coverage);
      medicare.order = 2;
      r.set('Coverage/old', { ...medicare, id: 'old', order: 1, period: { start: '2010-01-01', end: '2016-05-31' } });
      r.set('Coverage/cancelled', { ...medicare, id: 'cancelled', order: 1, status: 'cancelled' });
      r.set('Coverage/supplement', { ...medicare, id: 'supplement', order: 1, subscriberId: 'SUPP-1' });
    });
    expect(facts.coverage).toMatchObject({ ref: 'Coverage/supplement', memberId: 'SUPP-1' });
  });

  it('reports a session without an active Coverage', () => {
    const facts = exampleFacts((r) => {
      get<Coverage>(r, REF.coverage).period = { start: '2027-01-01' };
    });
    expect(facts.coverage).toBeNull();
    expect(facts.findings.map((f) => f.ruleId)).toEqual(['billing-no-coverage']);
  });

  it('reports a billing provider that does not resolve', () => {
    const input = exampleInput((r) => {
      get<Encounter>(r, REF.encounter).serviceProvider = { reference: 'Organization/missing' };
    });
    expect(readSession(input).findings.map((f) => f.ruleId)).toEqual(['billing-no-billing-provider']);
  });

  it('sees distinct-service only when distinct is true, and justification on the procedure', () => {
    const facts = exampleFacts((r) => {
      const ext = get<Procedure>(r, REF.activities).extension!.find((e) => e.url.endsWith('/distinct-service'))!;
      ext.extension![0]!.valueBoolean = false;
      get<Procedure>(r, REF.gait).extension!.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/justification', valueString: 'Stair training added.' });
    });
    expect(facts.services.map((s) => [s.distinct, s.justified])).toEqual([[false, true], [false, false], [false, false]]);
  });
});

describe('billing fields of the payer policy the runtime selects (guide §3.3)', () => {
  const withType = (code: string) => exampleFacts((r) => {
    get<Coverage>(r, REF.coverage).type = { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code }] };
  });

  it('Medicare (8-minute rule) for SOPT 1x and by default, the commercial example (midpoint) for 5x and 6x', () => {
    expect(billingPolicyOf(exampleFacts())).toMatchObject({ id: 'medicare', unitRule: 'cms-8-minute', assistantModifiers: true, kx: true });
    expect(billingPolicyOf(withType('121'))).toMatchObject({ id: 'medicare' });
    expect(billingPolicyOf(withType('5'))).toMatchObject({ id: 'commercial-example', unitRule: 'midpoint', kx: false });
    expect(billingPolicyOf(withType('62'))).toMatchObject({ id: 'commercial-example' });
    expect(billingPolicyOf(withType('2'))).toMatchObject({ id: 'medicare' });
  });

  it('the payer identifier wins over Coverage.type', () => {
    const facts = exampleFacts((r) => {
      get<Organization>(r, REF.payer).identifier = [{ system: 'http://stride-fhir.org/fhir/sid/payer-id', value: 'EXAMPLE-COMMERCIAL' }];
    });
    expect(billingPolicyOf(facts)).toMatchObject({ id: 'commercial-example' });
  });

  it('every payer policy file has billing fields; a policy without them is refused by name', () => {
    expect(() => assertBillingForEvery(payerPolicies.all.map((p) => p.id), billingPolicies)).not.toThrow();
    expect(() => assertBillingForEvery(['medicare', 'acme-ppo'], billingPolicies)).toThrow(/no billing fields for payer policy acme-ppo: add it to src\/billing\/data\/billing-policies.json/);
    expect(() => billingPolicyFor('acme-ppo', billingPolicies)).toThrow(/no billing fields for payer policy acme-ppo/);
  });
});

describe('data files are validated when loaded', () => {
  const shippedPolicies = () => JSON.parse(JSON.stringify({ about: '', policies: billingPolicies }));

  it('loads the shipped policies and fee schedule', () => {
    expect(billingPolicies.map((p) => p.id)).toEqual(['medicare', 'commercial-example']);
    expect(loadFeeSchedule().fees.find((f) => f.code === '97116')).toMatchObject({ charge: 60, system: 'cpt' });
  });

  it('refuses a bad policy file, naming the file and the field', () => {
    const bad = shippedPolicies();
    bad.policies[0].unitRule = 'rule-of-eights';
    expect(() => parseBillingPolicies(bad, 'p.json')).toThrow(/p\.json.*\/policies\/0\/unitRule must be equal to one of the allowed values/);
    const twice = shippedPolicies();
    twice.policies[1].id = 'medicare';
    expect(() => parseBillingPolicies(twice, 'p.json')).toThrow(/\/policies\/1\/id medicare is used twice/);
    const badCap = shippedPolicies();
    badCap.policies[0].sessionCaps = [{ code: '99999', maxUnits: 4 }];
    expect(() => parseBillingPolicies(badCap, 'p.json')).toThrow(/\/policies\/0\/sessionCaps\/0\/code 99999/);
    const badPos = shippedPolicies();
    badPos.policies[0].defaultPlaceOfService = '81';
    expect(() => parseBillingPolicies(badPos, 'p.json')).toThrow(/defaultPlaceOfService 81/);
  });

  it('refuses a bad fee schedule, naming the file and the field', () => {
    const fees = () => JSON.parse(JSON.stringify(loadFeeSchedule()));
    const negative = fees();
    negative.fees[2].charge = -5;
    expect(() => parseFeeSchedule(negative, 'f.json')).toThrow(/f\.json.*\/fees\/2\/charge must be > 0/);
    const fraction = fees();
    fraction.fees[0].charge = 10.005;
    expect(() => parseFeeSchedule(fraction, 'f.json')).toThrow(/\/fees\/0\/charge must be multiple of 0\.01/);
    const twice = fees();
    twice.fees.push({ ...twice.fees[0] });
    expect(() => parseFeeSchedule(twice, 'f.json')).toThrow(/code 92507 is listed twice/);
    const unknownField = fees();
    unknownField.fees[0].price = 3;
    expect(() => parseFeeSchedule(unknownField, 'f.json')).toThrow(/\/fees\/0 must NOT have additional properties/);
  });

  it('accepts amounts with cents that are not exact in binary (67.60)', () => {
    const fees = JSON.parse(JSON.stringify(loadFeeSchedule()));
    fees.fees[0].expectedAllowed = 67.6;
    fees.fees[0].charge = 0.07;
    expect(parseFeeSchedule(fees, 'f.json').fees[0]).toMatchObject({ charge: 0.07, expectedAllowed: 67.6 });
  });
});

