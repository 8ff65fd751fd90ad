/** Validation on every write (issue 2 item 6): invalid resources are refused with expression paths; nothing is stored. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const CASES: Array<[string, Record<string, unknown>, string]> = [
  ['an unknown element', { resourceType: 'Patient', favouriteColour: 'blue' }, 'Patient.favouriteColour'],
  ['a wrong type', { resourceType: 'Patient', active: 'yes' }, 'Patient.active'],
  ['a missing required element', { resourceType: 'Observation', code: { text: 'gait speed' } }, 'Observation.status'],
  ['a malformed date', { resourceType: 'Patient', birthDate: '1950-02-30T' }, 'Patient.birthDate'],
  ['a malformed decimal', { resourceType: 'Observation', status: 'final', code: { text: 'gait speed' }, valueQuantity: { value: '0.8' } }, 'Observation.valueQuantity.value'],
  ['a code with spaces around it', { resourceType: 'Patient', gender: ' female ' }, 'Patient.gender'],
  ['a string where an array belongs', { resourceType: 'Patient', name: [{ given: 'Lan' }] }, 'Patient.name.given'],
  ['a missing required code', { resourceType: 'Observation', status: 'final' }, 'Observation.code'],
  ['a boolean written as a string', { resourceType: 'Patient', active: 'true' }, 'Patient.active'],
  ['a code outside its required value set', { resourceType: 'Observation', status: 'done', code: { text: 'gait speed' } }, 'Observation.status'],
  ['a malformed dateTime', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, effectiveDateTime: '2026-13-01T10:00:00Z' }, 'Observation.effectiveDateTime'],
  ['a non-integer where an integer belongs', { resourceType: 'Patient', multipleBirthInteger: 1.5 }, 'Patient.multipleBirthInteger'],
  ['a number where an object belongs', { resourceType: 'Patient', name: [1] }, 'Patient.name[0]'],
  ['a boolean where a resource belongs', { resourceType: 'Patient', contained: [true] }, 'Patient.contained[0]'],
  ['a null among the profiles', { resourceType: 'Patient', meta: { profile: [null, 'http://example.org/StructureDefinition/x'] } }, 'Patient.meta.profile[0]'],
  ['an empty object for a code', { resourceType: 'Observation', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: {} }] } }, 'Observation.code.coding[0].code'],
  ['an empty object where an array belongs', { resourceType: 'Observation', status: 'final', code: { coding: {} } }, 'Observation.code.coding'],
  ['an object where a primitive belongs', { resourceType: 'Patient', birthDate: { year: 1950 } }, 'Patient.birthDate'],
  ['an empty string', { resourceType: 'Practitioner', name: [{ family: '' }] }, 'Practitioner.name[0].family'],
  ['a string where an object belongs', { resourceType: 'Observation', status: 'final', code: { text: 'gait speed' }, subject: 'Patient/1' }, 'Observation.subject'],
  ['a Bundle with a null entry', { resourceType: 'Bundle', type: 'batch', entry: [null, { request: { method: 'GET', url: 'Patient' } }] }, 'Bundle.entry[0]'],
];

describeEachEngine('validation on write', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  for (const [what, resource, expression] of CASES) {
    it(`refuses ${what} with 400, an issue at ${expression}, and stores nothing`, async () => {
      const before = await fhir(s.baseUrl, 'GET', `${resource.resourceType}/_history`);
      const r = await fhir(s.baseUrl, 'POST', String(resource.resourceType), resource);
      expect(r.status).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      const issue = r.body.issue.find((i: any) => i.expression?.includes(expression));
      expect(issue, JSON.stringify(r.body)).toBeDefined();
      expect(issue.severity).toBe('error');
      expect(issue.details.text).toContain(expression);
      const put = await fhir(s.baseUrl, 'PUT', `${resource.resourceType}/invalid-1`, { ...resource, id: 'invalid-1' });
      expect(put.status).toBe(400);
      expect((await fhir(s.baseUrl, 'GET', `${resource.resourceType}/invalid-1`)).status).toBe(404);
      const after = await fhir(s.baseUrl, 'GET', `${resource.resourceType}/_history`);
      expect(after.body.entry?.length ?? 0).toBe(before.body.entry?.length ?? 0);
      expect((await fhir(s.baseUrl, 'GET', `${resource.resourceType}?_id=invalid-1`)).body.total).toBe(0);
    });
  }

  it('an invalid id in the URL or the body of a PUT is 400 naming Type.id, and nothing is stored', async () => {
    for (const id of ['a$b', 'has space', 'x'.repeat(65), 'émile']) {
      const r = await fhir(s.baseUrl, 'PUT', `Patient/${encodeURIComponent(id)}`, { resourceType: 'Patient', id });
      expect(r.status, id).toBe(400);
      expect(r.body.issue.some((i: any) => i.expression?.includes('Patient.id') && /not a valid resource id/.test(i.details.text)), JSON.stringify(r.body)).toBe(true);
      expect((await fhir(s.baseUrl, 'GET', `Patient/${encodeURIComponent(id)}`)).status).toBe(404);
    }
    const ok = await fhir(s.baseUrl, 'PUT', `Patient/${'y'.repeat(64)}`, { resourceType: 'Patient', id: 'y'.repeat(64) });
    expect(ok.status).toBe(201);
  });

  it('an invalid update leaves the stored version untouched', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/keep', { resourceType: 'Patient', id: 'keep', gender: 'female' });
    const bad = await fhir(s.baseUrl, 'PUT', 'Patient/keep', { resourceType: 'Patient', id: 'keep', birthDate: 'last spring' });
    expect(bad.status).toBe(400);
    const read = await fhir(s.baseUrl, 'GET', 'Patient/keep');
    expect(read.body.gender).toBe('female');
    expect(read.body.meta.versionId).toBe('1');
  });

  it('accepts a valid therapy Observation with a UCUM quantity', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Observation', {
      resourceType: 'Observation', status: 'final',
      code: { coding: [{ system: 'http://loinc.org', code: '83172-7' }] },
      valueQuantity: { value: 0.82, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' },
    });
    expect(r.status).toBe(201);
    expect(r.body.valueQuantity.value).toBe(0.82);
  });
});
