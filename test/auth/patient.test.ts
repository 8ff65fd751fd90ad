/**
 * Patient-scoped clients (issue 23): a client registered with --patient sees only its patient's compartment, by any
 * search (_include, _revinclude, _has, chains, _summary=count, compartment searches, paging), read, history or batch,
 * and a resource of another patient answers exactly as one that does not exist.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, registerClient, requestToken, signAssertion, tokenFor } from '../support/auth.js';

const obs = (id: string, patient: string, code = '41909-3') => ({ resourceType: 'Observation', id, status: 'final', code: { coding: [{ system: 'http://loinc.org', code }] }, subject: { reference: `Patient/${patient}` } });
const ids = (bundle: any): string[] => (bundle.entry ?? []).filter((e: any) => e.resource).map((e: any) => `${e.resource.resourceType}/${e.resource.id}`).sort();

describeEachEngine('patient-scoped clients', (engine) => {
  let s: TestServer;
  let admin: string;
  let mine: string;
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    admin = await tokenFor(s, 'system/*.cruds');
    const seed = [
      { resourceType: 'Patient', id: 'alice', name: [{ family: 'Shared' }] },
      { resourceType: 'Patient', id: 'bob', name: [{ family: 'Shared' }], link: [{ other: { reference: 'Patient/alice' }, type: 'seealso' }] },
      obs('a1', 'alice'),
      obs('a2', 'alice', '8302-2'),
      obs('b1', 'bob'),
      obs('b2', 'bob', '8302-2'),
      { resourceType: 'Practitioner', id: 'doc', name: [{ family: 'Doc' }] },
    ];
    for (const r of seed) expect((await fhir(s.baseUrl, 'PUT', `${r.resourceType}/${r.id}`, r, bearer(admin))).status).toBe(201);
    mine = await tokenFor(s, 'patient/*.cruds', { patient: 'Patient/alice' });
  });
  afterAll(async () => s?.close());

  const get = (path: string, token = mine) => fhir(s.baseUrl, 'GET', path, undefined, bearer(token));

  it('the token names its patient', async () => {
    const client = await registerClient(s, 'patient/Observation.rs', { patient: 'Patient/alice' });
    const reply = await requestToken(s, await signAssertion(s, client), 'patient/Observation.rs system/Observation.rs');
    expect(reply.body).toMatchObject({ patient: 'alice', scope: 'patient/Observation.rs' });
  });

  it('reads its own resources; another patient\'s answer exactly as ones that do not exist', async () => {
    expect((await get('Observation/a1')).status).toBe(200);
    expect((await get('Patient/alice')).status).toBe(200);
    const other = await get('Observation/b1');
    const none = await get('Observation/zzz');
    expect(other.status).toBe(404);
    expect(none.status).toBe(404);
    expect(other.text.replace('b1', 'X')).toBe(none.text.replace('zzz', 'X'));
    expect((await get('Patient/bob')).status).toBe(404);
    expect((await get('Observation/b1/_history')).status).toBe(404);
    expect((await get('Observation/b1/_history/1')).status).toBe(404);
    expect((await get('Practitioner/doc')).status).toBe(404);
  });

  it('searches see only its compartment, counts included', async () => {
    expect(ids((await get('Observation')).body)).toEqual(['Observation/a1', 'Observation/a2']);
    expect(ids((await get('Patient?name=Shared')).body)).toEqual(['Patient/alice']);
    expect((await get('Observation?_summary=count')).body.total).toBe(2);
    expect((await get('Observation?_total=accurate&_count=1')).body.total).toBe(2);
    expect(ids((await get('?_type=Patient,Observation')).body)).toEqual(['Observation/a1', 'Observation/a2', 'Patient/alice']);
    expect(ids((await get('Patient/bob/Observation')).body)).toEqual([]);
    expect(ids((await get('Observation?_id=b1,a1')).body)).toEqual(['Observation/a1']);
  });

  it('_include, _revinclude, _has and chains reveal nothing of another patient', async () => {
    expect(ids((await get('Patient?_revinclude=Observation:subject')).body)).toEqual(['Observation/a1', 'Observation/a2', 'Patient/alice']);
    // Bob links to Alice: R4 puts him in her compartment (Patient.link), but another patient's record is not hers to
    // see; Stride holds a patient-scoped client to its own Patient resource.
    expect(ids((await get('Patient?_id=alice&_revinclude=Patient:link')).body)).toEqual(['Patient/alice']);
    expect(ids((await get('Observation?_include=Observation:subject&code=8302-2')).body)).toEqual(['Observation/a2', 'Patient/alice']);
    expect(ids((await get('Patient?_has:Observation:subject:code=8302-2')).body)).toEqual(['Patient/alice']);
    expect(ids((await get('Observation?subject:Patient.name=Shared')).body)).toEqual(['Observation/a1', 'Observation/a2']);
    expect((await get('Observation?subject=Patient/bob&_summary=count')).body.total).toBe(0);
  });

  it('history across a type or the server is not served to it', async () => {
    expect((await get('Observation/_history')).status).toBe(403);
    expect((await get('_history')).status).toBe(403);
    expect((await get('Observation/a1/_history')).body.total).toBe(1);
  });

  it('writes only into its compartment', async () => {
    expect((await fhir(s.baseUrl, 'POST', 'Observation', { ...obs('x', 'alice'), id: undefined }, bearer(mine))).status).toBe(201);
    expect((await fhir(s.baseUrl, 'POST', 'Observation', { ...obs('x', 'bob'), id: undefined }, bearer(mine))).status).toBe(403);
    expect((await fhir(s.baseUrl, 'PUT', 'Observation/b1', obs('b1', 'alice'), bearer(mine))).status).toBe(404);
    expect((await fhir(s.baseUrl, 'DELETE', 'Observation/b1', undefined, bearer(mine))).status).toBe(404);
    expect((await fhir(s.baseUrl, 'PUT', 'Observation/a1', obs('a1', 'bob'), bearer(mine))).status).toBe(403);
    expect((await fhir(s.baseUrl, 'GET', 'Observation/b1', undefined, bearer(admin))).body.subject.reference).toBe('Patient/bob');
    const batch = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Observation/b1' } }, { request: { method: 'GET', url: 'Observation?code=41909-3' } }] }, bearer(mine));
    expect(batch.body.entry[0].response.status).toMatch(/^404/);
    expect(ids(batch.body.entry[1].resource)).toContain('Observation/a1');
    expect(ids(batch.body.entry[1].resource).every((id: string) => id !== 'Observation/b1')).toBe(true);
    const tx = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ resource: { ...obs('y', 'bob'), id: undefined }, request: { method: 'POST', url: 'Observation' } }] }, bearer(mine));
    expect(tx.status).toBe(403);
  });

  it('conditional writes, whole-server operations and other patients\' operations are refused', async () => {
    expect((await fhir(s.baseUrl, 'POST', 'Observation', { ...obs('x', 'alice'), id: undefined }, { ...bearer(mine), 'if-none-exist': 'code=41909-3' })).status).toBe(403);
    expect((await fhir(s.baseUrl, 'DELETE', 'Observation?code=41909-3', undefined, bearer(mine))).status).toBe(403);
    expect((await get('$export')).status).toBe(403);
    expect((await get('Patient/bob/$outcomes')).status).toBe(404);
  });

  it('a patient-scoped client cannot be given system scopes', async () => {
    await expect(tokenFor(s, 'system/*.rs', { patient: 'alice' })).rejects.toThrow(/patient\/ scopes/);
  });
});
