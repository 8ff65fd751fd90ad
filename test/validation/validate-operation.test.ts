/** $validate (R4 resource-operation-validate.html): inputs, modes, and status 200 whenever validation ran. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const PATIENT = { resourceType: 'Patient', name: [{ family: 'Lindqvist', given: ['Robert'] }], gender: 'male' };
const texts = (body: any): string => body.issue.map((i: any) => `${i.severity} ${i.expression?.[0]} ${i.details?.text}`).join('\n');
const errors = (body: any): any[] => body.issue.filter((i: any) => i.severity === 'error' || i.severity === 'fatal');

describeEachEngine('$validate', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('answers a valid resource with 200 and one information issue "No problems found"', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Patient/$validate', PATIENT);
    expect(r.status).toBe(200);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue).toHaveLength(1);
    expect(r.body.issue[0]).toMatchObject({ severity: 'information', code: 'informational', details: { text: 'No problems found' } });
  });

  it('answers an invalid resource with 200 and issues carrying severity, code, message and expression', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Observation/$validate', { resourceType: 'Observation', status: 'bogus', code: { text: 'gait speed' }, colour: 'red' });
    expect(r.status).toBe(200);
    // The unknown element, and for the bare code "bogus" both of the reference validator's findings: its system
    // cannot be determined, and it is not in the required value set.
    expect(errors(r.body).length).toBe(3);
    for (const i of r.body.issue) {
      expect(i.severity).toBeTruthy();
      expect(i.code).toBeTruthy();
      expect(i.details.text.length).toBeGreaterThan(10);
      expect(i.expression[0]).toMatch(/^Observation/);
    }
    expect(texts(r.body)).toContain('Observation.status: "bogus" is not in the required value set');
    expect(texts(r.body)).toContain('Observation.colour');
  });

  it('stores nothing', async () => {
    await fhir(s.baseUrl, 'POST', 'Patient/$validate', { ...PATIENT, name: [{ family: 'NeverStored' }] });
    const search = await fhir(s.baseUrl, 'GET', 'Patient?family=NeverStored');
    expect(search.body.total ?? search.body.entry?.length ?? 0).toBe(0);
  });

  it('takes Parameters with resource, mode and profile', async () => {
    const body = {
      resourceType: 'Parameters',
      parameter: [
        { name: 'resource', resource: { resourceType: 'Patient', gender: 'unknown-ish' } },
        { name: 'mode', valueCode: 'create' },
        { name: 'profile', valueUri: 'http://stride-fhir.org/fhir/StructureDefinition/no-such-profile' },
      ],
    };
    const r = await fhir(s.baseUrl, 'POST', 'Patient/$validate', body);
    expect(r.status).toBe(200);
    expect(texts(r.body)).toContain('Patient.gender: "unknown-ish" is not in the required value set');
    expect(texts(r.body)).toContain('profile "http://stride-fhir.org/fhir/StructureDefinition/no-such-profile" is not known to this server');
  });

  it('takes ?profile= in the URL and names an unknown profile in an error', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Patient/$validate?profile=http://example.org/fhir/StructureDefinition/unknown', PATIENT);
    expect(r.status).toBe(200);
    const e = errors(r.body);
    expect(e).toHaveLength(1);
    expect(e[0].code).toBe('not-found');
    expect(e[0].details.text).toContain('http://example.org/fhir/StructureDefinition/unknown');
  });

  it('validates a Parameters resource itself at Parameters/$validate', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Parameters/$validate', { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] });
    expect(r.status).toBe(200);
    expect(r.body.issue[0].details.text).toBe('No problems found');
  });

  it('reports a resource sent to another type as an error issue', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Observation/$validate', PATIENT);
    expect(r.status).toBe(200);
    expect(errors(r.body)[0].details.text).toContain('The resource is a Patient, but it was sent to Observation/$validate');
  });

  it('GET [type]/[id]/$validate validates the stored resource', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/val-1', { ...PATIENT, id: 'val-1' });
    const r = await fhir(s.baseUrl, 'GET', 'Patient/val-1/$validate');
    expect(r.status).toBe(200);
    expect(r.body.issue[0].details.text).toBe('No problems found');
    const missing = await fhir(s.baseUrl, 'GET', 'Patient/never-there/$validate');
    expect(missing.status).toBe(404);
  });

  it('mode=update: the id must match the URL; a missing resource would be created; a stale version is flagged', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/val-2', { ...PATIENT, id: 'val-2' });
    const ok = await fhir(s.baseUrl, 'POST', 'Patient/val-2/$validate?mode=update', { ...PATIENT, id: 'val-2' });
    expect(ok.body.issue[0].details.text).toBe('No problems found');
    const mismatch = await fhir(s.baseUrl, 'POST', 'Patient/val-2/$validate?mode=update', { ...PATIENT, id: 'other' });
    expect(mismatch.status).toBe(200);
    expect(errors(mismatch.body)[0].details.text).toContain('differs from the id in the URL "val-2"');
    const absent = await fhir(s.baseUrl, 'POST', 'Patient/val-new/$validate?mode=update', { ...PATIENT, id: 'val-new' });
    expect(errors(absent.body)).toHaveLength(0);
    expect(texts(absent.body)).toContain('does not exist yet: an update would create it');
    const stale = await fhir(s.baseUrl, 'POST', 'Patient/val-2/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: { ...PATIENT, id: 'val-2', meta: { versionId: '7' } } }, { name: 'mode', valueCode: 'update' }] });
    expect(texts(stale.body)).toContain('the current version is 1');
  });

  it('mode=delete: the resource must exist; an already deleted one is a warning', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/val-3', { ...PATIENT, id: 'val-3' });
    const ok = await fhir(s.baseUrl, 'POST', 'Patient/val-3/$validate?mode=delete');
    expect(ok.status).toBe(200);
    expect(ok.body.issue[0].details.text).toBe('No problems found');
    const none = await fhir(s.baseUrl, 'POST', 'Patient/nobody/$validate', { resourceType: 'Parameters', parameter: [{ name: 'mode', valueCode: 'delete' }] });
    expect(errors(none.body)[0]).toMatchObject({ code: 'not-found' });
    await fhir(s.baseUrl, 'DELETE', 'Patient/val-3');
    const gone = await fhir(s.baseUrl, 'POST', 'Patient/val-3/$validate?mode=delete');
    expect(errors(gone.body)).toHaveLength(0);
    expect(texts(gone.body)).toContain('already deleted');
  });

  it('a malformed request is still a 400: invalid JSON, no resource, an unknown mode or parameter', async () => {
    expect((await fhir(s.baseUrl, 'POST', 'Patient/$validate', '{"resourceType": "Patient",')).status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', 'Patient/$validate')).status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', 'Patient/$validate', [1, 2])).status).toBe(400);
    const mode = await fhir(s.baseUrl, 'POST', 'Patient/$validate?mode=upsert', PATIENT);
    expect(mode.status).toBe(400);
    expect(mode.body.issue[0].details.text).toContain('mode must be one of create, update, delete');
    const param = await fhir(s.baseUrl, 'POST', 'Patient/$validate', { resourceType: 'Parameters', parameter: [{ name: 'resource', resource: PATIENT }, { name: 'strict', valueBoolean: true }] });
    expect(param.status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', 'Patient/x/$validate?mode=create', PATIENT)).status).toBe(400);
  });

  it('unknown operations are 404, a wrong method 405, an unknown type 404', async () => {
    expect((await fhir(s.baseUrl, 'POST', 'Patient/$frobnicate', PATIENT)).status).toBe(404);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/$validate')).status).toBe(405);
    expect((await fhir(s.baseUrl, 'POST', 'Unicorn/$validate', { resourceType: 'Unicorn' })).status).toBe(404);
  });
});
