/**
 * date, number, quantity, uri, composite and the resource parameters (_id, _lastUpdated, _tag, _profile, _security)
 * through HTTP (issue 3, item 2), with the spec's precision and prefix semantics, and :missing on each type.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { found, load, rejects } from './support.js';

const LOINC = 'http://loinc.org';
const UCUM = 'http://unitsofmeasure.org';
const GAIT_SPEED = '41909-3';
const SYSTOLIC = '8480-6';

const quantity = (value: number, code: string) => ({ value, unit: code, system: UCUM, code });

const FIXTURES: Resource[] = [
  { resourceType: 'Patient', id: 'born-1980', birthDate: '1980-03-15', meta: { tag: [{ system: 'urn:stride', code: 'pilot' }], security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }], profile: ['http://example.org/fhir/StructureDefinition/pilot-patient'] } },
  { resourceType: 'Patient', id: 'born-1980-03', birthDate: '1980-03' },
  { resourceType: 'Patient', id: 'born-1981', birthDate: '1981-01-01', meta: { profile: ['http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient'] } },
  { resourceType: 'Patient', id: 'no-birth' },
  { resourceType: 'Observation', id: 'speed-slow', status: 'final', code: { coding: [{ system: LOINC, code: GAIT_SPEED }] }, effectiveDateTime: '2026-03-02T09:30:00Z', valueQuantity: quantity(0.4, 'm/s') },
  { resourceType: 'Observation', id: 'speed-fast', status: 'final', code: { coding: [{ system: LOINC, code: GAIT_SPEED }] }, effectiveDateTime: '2026-03-20T14:00:00+02:00', valueQuantity: quantity(1.25, 'm/s') },
  { resourceType: 'Observation', id: 'speed-cm', status: 'final', code: { coding: [{ system: LOINC, code: GAIT_SPEED }] }, effectiveDateTime: '2026-04-01', valueQuantity: { value: 100, unit: 'cm/s', system: UCUM, code: 'cm/s' } },
  { resourceType: 'Observation', id: 'bp', status: 'final', code: { coding: [{ system: LOINC, code: SYSTOLIC }] }, effectivePeriod: { start: '2026-02-27', end: '2026-03-01T12:00:00Z' }, valueQuantity: quantity(142, 'mm[Hg]') },
  {
    resourceType: 'Observation',
    id: 'panel',
    status: 'final',
    code: { text: 'blood pressure panel' },
    effectivePeriod: { start: '2026-05-01T10:00:00Z' },
    component: [
      { code: { coding: [{ system: LOINC, code: SYSTOLIC }] }, valueQuantity: quantity(118, 'mm[Hg]') },
      { code: { coding: [{ system: LOINC, code: '8462-4' }] }, valueQuantity: quantity(150, 'mm[Hg]') },
    ],
  },
  { resourceType: 'RiskAssessment', id: 'fall-risk', status: 'final', subject: { reference: 'Patient/born-1980' }, prediction: [{ probabilityDecimal: 0.35 }] },
  { resourceType: 'RiskAssessment', id: 'fall-risk-low', status: 'final', subject: { reference: 'Patient/born-1980' }, prediction: [{ probabilityDecimal: 0.05 }] },
  { resourceType: 'ValueSet', id: 'vs-gait', status: 'active', url: 'http://stride-fhir.org/fhir/ValueSet/gait-devices' },
  { resourceType: 'ValueSet', id: 'vs-other', status: 'active', url: 'http://stride-fhir.org/fhir/ValueSet/other' },
  { resourceType: 'ValueSet', id: 'vs-hl7', status: 'active', url: 'http://hl7.org/fhir/ValueSet/x' },
];

describeEachEngine('search: dates, numbers, quantities, uris, composites, resource parameters', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await load(s.baseUrl, FIXTURES);
  });
  afterAll(async () => s?.close());

  it('date: a value is the range its precision covers; eq means the target lies within the search range', async () => {
    expect(await found(s.baseUrl, 'Patient?birthdate=1980')).toEqual(['born-1980', 'born-1980-03']);
    expect(await found(s.baseUrl, 'Patient?birthdate=1980-03')).toEqual(['born-1980', 'born-1980-03']);
    expect(await found(s.baseUrl, 'Patient?birthdate=1980-03-15')).toEqual(['born-1980']);
    expect(await found(s.baseUrl, 'Patient?birthdate=eq1981-01-01')).toEqual(['born-1981']);
  });

  it('date prefixes: ne gt lt ge le sa eb ap', async () => {
    expect(await found(s.baseUrl, 'Patient?birthdate=ne1980-03-15')).toEqual(['born-1980-03', 'born-1981']);
    expect(await found(s.baseUrl, 'Patient?birthdate=gt1980-03-15')).toEqual(['born-1980-03', 'born-1981']);
    expect(await found(s.baseUrl, 'Patient?birthdate=lt1980-03-15')).toEqual(['born-1980-03']);
    expect(await found(s.baseUrl, 'Patient?birthdate=ge1980-03-15')).toEqual(['born-1980', 'born-1980-03', 'born-1981']);
    expect(await found(s.baseUrl, 'Patient?birthdate=le1980-03-14')).toEqual(['born-1980-03']);
    expect(await found(s.baseUrl, 'Patient?birthdate=sa1980-12-31')).toEqual(['born-1981']);
    expect(await found(s.baseUrl, 'Patient?birthdate=eb1981')).toEqual(['born-1980', 'born-1980-03']);
    expect(await found(s.baseUrl, 'Patient?birthdate=ap1981-01-02')).toContain('born-1981');
  });

  it('date: instants with time zones, periods, and ranges by repetition', async () => {
    expect(await found(s.baseUrl, 'Observation?date=2026-03')).toEqual(['speed-fast', 'speed-slow']);
    expect(await found(s.baseUrl, 'Observation?date=2026-03-20T12:00:00Z')).toEqual(['speed-fast']);
    expect(await found(s.baseUrl, 'Observation?date=2026-03-20T14:00:00Z')).toEqual([]);
    expect(await found(s.baseUrl, `Observation?date=${encodeURIComponent('2026-03-20T14:00:00+02:00')}`)).toEqual(['speed-fast']);
    expect(await found(s.baseUrl, 'Observation?date=ge2026-03-01&date=lt2026-04-01')).toEqual(['speed-fast', 'speed-slow']);
    // The period [Feb 27, Mar 1 12:00] ends after the start of March: gt on Feb; lt on Mar 1.
    expect(await found(s.baseUrl, 'Observation?date=gt2026-02-28&code=8480-6')).toEqual(['bp']);
    expect(await found(s.baseUrl, 'Observation?date=2026-02&code=8480-6')).toEqual([]);
    // An open-ended period reaches into the future.
    expect(await found(s.baseUrl, 'Observation?date=sa2026-04-15')).toEqual(['panel']);
    expect(await found(s.baseUrl, 'Observation?date=gt2030-01-01')).toEqual(['panel']);
  });

  it('date: malformed values and unknown prefixes are 400s naming the parameter', async () => {
    await rejects(s.baseUrl, 'Patient?birthdate=1980-13', 'birthdate');
    await rejects(s.baseUrl, 'Patient?birthdate=1980-02-30', 'birthdate');
    await rejects(s.baseUrl, 'Patient?birthdate=xx1980', 'birthdate');
    await rejects(s.baseUrl, 'Patient?birthdate=yesterday', 'birthdate');
    await rejects(s.baseUrl, 'Patient?_lastUpdated=gt2026-1', '_lastUpdated');
  });

  it('number: implicit precision without a prefix, exact with one', async () => {
    expect(await found(s.baseUrl, 'RiskAssessment?probability=0.35')).toEqual(['fall-risk']);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=0.4')).toEqual(['fall-risk']);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=0.3')).toEqual([]);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=0.30')).toEqual([]);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=gt0.1')).toEqual(['fall-risk']);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=le0.05')).toEqual(['fall-risk-low']);
    expect(await found(s.baseUrl, 'RiskAssessment?probability=ne0.35')).toEqual(['fall-risk-low']);
    await rejects(s.baseUrl, 'RiskAssessment?probability=high', 'probability');
  });

  it('quantity: number|system|code, number||code, bare number', async () => {
    expect(await found(s.baseUrl, `Observation?value-quantity=gt1|${UCUM}|m/s`)).toEqual(['speed-fast']);
    expect(await found(s.baseUrl, 'Observation?value-quantity=lt1||m/s')).toEqual(['speed-slow']);
    expect(await found(s.baseUrl, 'Observation?value-quantity=100')).toEqual(['speed-cm']);
    expect(await found(s.baseUrl, 'Observation?value-quantity=ge100||mm[Hg]')).toEqual(['bp']);
    expect(await found(s.baseUrl, 'Observation?value-quantity=0.4||cm/s')).toEqual([]);
    expect(await found(s.baseUrl, 'Observation?value-quantity=ap1.2||m/s')).toEqual(['speed-fast']);
    await rejects(s.baseUrl, 'Observation?value-quantity=gt1|m/s', 'value-quantity');
    await rejects(s.baseUrl, 'Observation?value-quantity=fast', 'value-quantity');
  });

  it('composite: code and value must hold in the same observation or component', async () => {
    expect(await found(s.baseUrl, `Observation?code-value-quantity=${LOINC}|${GAIT_SPEED}$gt1`)).toEqual(['speed-cm', 'speed-fast']);
    expect(await found(s.baseUrl, `Observation?code-value-quantity=${GAIT_SPEED}$lt1|${UCUM}|m/s`)).toEqual(['speed-slow']);
    expect(await found(s.baseUrl, `Observation?component-code-value-quantity=${SYSTOLIC}$gt140`)).toEqual([]);
    expect(await found(s.baseUrl, `Observation?component-code-value-quantity=${SYSTOLIC}$lt120`)).toEqual(['panel']);
    expect(await found(s.baseUrl, `Observation?combo-code-value-quantity=${SYSTOLIC}$gt140`)).toEqual(['bp']);
    await rejects(s.baseUrl, `Observation?code-value-quantity=${GAIT_SPEED}`, 'code-value-quantity');
  });

  it('uri: exact, :below and :above', async () => {
    expect(await found(s.baseUrl, 'ValueSet?url=http://stride-fhir.org/fhir/ValueSet/other')).toEqual(['vs-other']);
    expect(await found(s.baseUrl, 'ValueSet?url=http://stride-fhir.org/fhir/ValueSet')).toEqual([]);
    expect(await found(s.baseUrl, 'ValueSet?url:below=http://stride-fhir.org/fhir/')).toEqual(['vs-gait', 'vs-other']);
    expect(await found(s.baseUrl, 'ValueSet?url:above=http://stride-fhir.org/fhir/ValueSet/other/_history/2')).toEqual(['vs-other']);
  });

  it('_id, _tag, _profile and _security', async () => {
    expect(await found(s.baseUrl, 'Patient?_id=born-1980,born-1981')).toEqual(['born-1980', 'born-1981']);
    expect(await found(s.baseUrl, 'Patient?_id:not=born-1980&birthdate:missing=false')).toEqual(['born-1980-03', 'born-1981']);
    expect(await found(s.baseUrl, 'Patient?_tag=urn:stride|pilot')).toEqual(['born-1980']);
    expect(await found(s.baseUrl, 'Patient?_security=R')).toEqual(['born-1980']);
    expect(await found(s.baseUrl, 'Patient?_profile=http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient')).toEqual(['born-1981']);
    expect(await found(s.baseUrl, 'Patient?_profile:below=http://example.org/')).toEqual(['born-1980']);
  });

  it('_lastUpdated compares the server time of the last write', async () => {
    // The boundary is the server's own time of the fixtures' last write, not this machine's clock: on a fast machine
    // the fixtures are less than a second old.
    const bundle = (await fhir(s.baseUrl, 'GET', 'Patient?_count=100')).body as { entry: Array<{ resource: Resource }> };
    const before = bundle.entry.map((e) => e.resource.meta!.lastUpdated!).sort().at(-1)!;
    await new Promise((resolve) => setTimeout(resolve, 5));
    await fhir(s.baseUrl, 'PUT', 'Patient/touched', { resourceType: 'Patient', id: 'touched' });
    expect(await found(s.baseUrl, `Patient?_lastUpdated=gt${encodeURIComponent(before)}`)).toEqual(['touched']);
    expect(await found(s.baseUrl, 'Patient?_lastUpdated=lt2000-01-01')).toEqual([]);
    expect(await found(s.baseUrl, `Patient?_lastUpdated=le${encodeURIComponent(before)}`)).toEqual(['born-1980', 'born-1980-03', 'born-1981', 'no-birth']);
  });

  it(':missing on date, number, quantity, uri and composite parameters', async () => {
    expect(await found(s.baseUrl, 'Patient?birthdate:missing=true&_id:not=touched')).toEqual(['no-birth']);
    expect(await found(s.baseUrl, 'Observation?value-quantity:missing=true')).toEqual(['panel']);
    expect(await found(s.baseUrl, 'Observation?component-code-value-quantity:missing=false')).toEqual(['panel']);
    expect(await found(s.baseUrl, 'RiskAssessment?probability:missing=false')).toEqual(['fall-risk', 'fall-risk-low']);
    expect(await found(s.baseUrl, 'ValueSet?url:missing=true')).toEqual([]);
  });
});
