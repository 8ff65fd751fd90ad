/** JSON Patch (R4 http.html#patch, RFC 6902). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const JSON_PATCH = { 'content-type': 'application/json-patch+json' };

describeEachEngine('patch', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await fhir(s.baseUrl, 'PUT', 'Patient/pp', { resourceType: 'Patient', id: 'pp', active: true, name: [{ family: 'Diaz' }] });
  });
  afterAll(async () => s?.close());

  it('applies add, replace, remove and test, as a new version', async () => {
    const ops = [
      { op: 'test', path: '/active', value: true },
      { op: 'replace', path: '/active', value: false },
      { op: 'add', path: '/gender', value: 'female' },
      { op: 'remove', path: '/name' },
    ];
    const r = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', ops, JSON_PATCH);
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ active: false, gender: 'female', meta: { versionId: '2' } });
    expect(r.body.name).toBeUndefined();
  });

  it('a failing test operation is 422 and changes nothing', async () => {
    const r = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'test', path: '/active', value: true }, { op: 'replace', path: '/gender', value: 'male' }], JSON_PATCH);
    expect(r.status).toBe(422);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pp')).body.gender).toBe('female');
  });

  it('a malformed patch is 400; a patch that makes the resource invalid is 400; changing the id is 400', async () => {
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/pp', { op: 'add' }, JSON_PATCH)).status).toBe(400);
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'jump', path: '/a' }], JSON_PATCH)).status).toBe(400);
    const invalid = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/birthDate', value: 'soon' }], JSON_PATCH);
    expect(invalid.status).toBe(400);
    expect(invalid.body.issue[0].expression).toEqual(['Patient.birthDate']);
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'replace', path: '/id', value: 'other' }], JSON_PATCH)).status).toBe(400);
  });

  it('honours If-Match, needs the JSON Patch media type, and 404s a missing resource', async () => {
    const stale = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { ...JSON_PATCH, 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    const wrongType = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/none', [{ op: 'add', path: '/active', value: true }], JSON_PATCH)).status).toBe(404);
  });
});
