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

  it('moving the document, or a member, into one of its own members is 400 (RFC 6902 §4.4) and changes nothing', async () => {
    const before = (await fhir(s.baseUrl, 'GET', 'Patient/pp')).body.meta.versionId;
    for (const from of ['', '/name']) {
      const r = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'move', from, path: `${from}/meta` }], JSON_PATCH);
      expect(r.status, JSON.stringify(r.body)).toBe(400);
      expect(r.body.issue[0].details.text).toMatch(/cannot move .* into its own member/);
    }
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pp')).body.meta.versionId).toBe(before);
  });

  it('a patch whose copies double the resource is refused before it exhausts the server (depth 400, size 413)', async () => {
    const before = (await fhir(s.baseUrl, 'GET', 'Patient/pp')).body.meta.versionId;
    // Each value nests 90 levels (the body stays under 100); the second goes in at the bottom of the first.
    const nest = (n: number): unknown => (n === 0 ? 'leaf' : { x: nest(n - 1) });
    const deeper = [
      { op: 'add', path: '/contained', value: nest(90) },
      { op: 'add', path: `/contained${'/x'.repeat(89)}`, value: nest(90) },
    ];
    const deep = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', deeper, JSON_PATCH);
    expect(deep.status, JSON.stringify(deep.body)).toBe(400);
    expect(deep.body.issue[0].details.text).toMatch(/nest more than 100 levels/);
    await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/name', value: [{ family: 'Diaz', given: ['A'.repeat(200)] }] }], JSON_PATCH);
    const wider = Array.from({ length: 60 }, () => ({ op: 'copy', from: '/name', path: '/name/-' }));
    const wide = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', wider, JSON_PATCH);
    expect(wide.status, JSON.stringify(wide.body)).toBe(413);
    expect(wide.body.issue[0].details.text).toMatch(/larger than this server's limit/);
    const after = (await fhir(s.baseUrl, 'GET', 'Patient/pp')).body;
    expect(Number(after.meta.versionId)).toBe(Number(before) + 1);
    expect(after.name).toHaveLength(1);
  });

  it('honours If-Match, needs the JSON Patch media type, and 404s a missing resource', async () => {
    const stale = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { ...JSON_PATCH, 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { ...JSON_PATCH, 'if-match': 'v1' })).status).toBe(400);
    const current = (await fhir(s.baseUrl, 'GET', 'Patient/pp')).headers.get('etag')!;
    const ok = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { ...JSON_PATCH, 'if-match': current });
    expect(ok.status).toBe(200);
    expect(ok.headers.get('etag')).toBe(`W/"${Number(current.slice(3, -1)) + 1}"`);
    expect(ok.headers.get('location')).toBe(`${s.baseUrl}/Patient/pp/_history/${ok.body.meta.versionId}`);
    const wrongType = await fhir(s.baseUrl, 'PATCH', 'Patient/pp', [{ op: 'add', path: '/active', value: true }], { 'content-type': 'text/plain' });
    expect(wrongType.status).toBe(415);
    expect((await fhir(s.baseUrl, 'PATCH', 'Patient/none', [{ op: 'add', path: '/active', value: true }], JSON_PATCH)).status).toBe(404);
  });

  it('a deleted resource cannot be patched (410); Prefer: return=minimal gives an empty body', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/gone', { resourceType: 'Patient', id: 'gone' });
    const minimal = await fhir(s.baseUrl, 'PATCH', 'Patient/gone', [{ op: 'add', path: '/active', value: true }], { ...JSON_PATCH, prefer: 'return=minimal' });
    expect(minimal.status).toBe(200);
    expect(minimal.text).toBe('');
    expect(minimal.headers.get('etag')).toBe('W/"2"');
    await fhir(s.baseUrl, 'DELETE', 'Patient/gone');
    const r = await fhir(s.baseUrl, 'PATCH', 'Patient/gone', [{ op: 'add', path: '/active', value: false }], JSON_PATCH);
    expect(r.status).toBe(410);
  });

  it('concurrent patches without If-Match all apply, one version each, none lost', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/busy', { resourceType: 'Patient', id: 'busy', telecom: [{ system: 'phone', value: '555-0100' }] });
    const n = 8;
    const replies = await Promise.all(
      Array.from({ length: n }, (_, i) => fhir(s.baseUrl, 'PATCH', 'Patient/busy', [{ op: 'add', path: '/telecom/-', value: { system: 'phone', value: `555-020${i}` } }], JSON_PATCH)),
    );
    expect(replies.map((r) => r.status)).toEqual(Array(n).fill(200));
    expect(replies.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(Array.from({ length: n }, (_, i) => i + 2));
    const read = await fhir(s.baseUrl, 'GET', 'Patient/busy');
    expect(read.body.meta.versionId).toBe(String(n + 1));
    expect(read.body.telecom).toHaveLength(n + 1);
  });
});
