/** Conditional reads, Prefer, _format, _pretty, _summary, _elements, HEAD (R4 http.html, search.html#summary). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const PATIENT = {
  resourceType: 'Patient', id: 'pat-h', active: true, gender: 'female', birthDate: '1950-04-01',
  name: [{ family: 'Nguyen', given: ['Lan'] }], maritalStatus: { text: 'married' },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Lan Nguyen</div>' },
};
const SUBSETTED = (r: any): boolean => Boolean(r.meta?.tag?.some((t: any) => t.code === 'SUBSETTED'));

describeEachEngine('headers and response shaping', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', PATIENT);
  });
  afterAll(async () => s?.close());

  it('If-Match with the current version updates; a stale one is 412; garbage is 400', async () => {
    const ok = await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', { ...PATIENT, active: false }, { 'if-match': 'W/"1"' });
    expect(ok.status).toBe(200);
    const stale = await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', PATIENT, { 'if-match': 'W/"1"' });
    expect(stale.status).toBe(412);
    expect(stale.body.issue[0].details.text).toContain('W/"2"');
    expect((await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', PATIENT, { 'if-match': 'yesterday' })).status).toBe(400);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h')).body.active).toBe(false);
  });

  it('If-Match: * updates a resource that exists and is 412 for one that does not', async () => {
    const any = await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', PATIENT, { 'if-match': '*' });
    expect(any.status).toBe(200);
    const missing = await fhir(s.baseUrl, 'PUT', 'Patient/pat-none', { ...PATIENT, id: 'pat-none' }, { 'if-match': '*' });
    expect(missing.status).toBe(412);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-none')).status).toBe(404);
    expect((await fhir(s.baseUrl, 'DELETE', 'Patient/pat-none', undefined, { 'if-match': 'W/"1"' })).status).toBe(412);
  });

  it('a read carries ETag and Last-Modified that agree with meta; a write carries Location of the new version', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h');
    expect(r.headers.get('etag')).toBe(`W/"${r.body.meta.versionId}"`);
    expect(r.headers.get('last-modified')).toBe(new Date(r.body.meta.lastUpdated).toUTCString());
    expect(r.headers.get('content-type')).toMatch(/^application\/fhir\+json/);
    const put = await fhir(s.baseUrl, 'PUT', 'Patient/pat-h', PATIENT);
    expect(put.headers.get('location')).toBe(`${s.baseUrl}/Patient/pat-h/_history/${put.body.meta.versionId}`);
    expect(put.headers.get('etag')).toBe(`W/"${put.body.meta.versionId}"`);
    expect((await fhir(s.baseUrl, 'GET', `Patient/pat-h/_history/${put.body.meta.versionId}`)).body.meta.versionId).toBe(put.body.meta.versionId);
  });

  it('If-None-Match and If-Modified-Since on read answer 304 when nothing changed', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h');
    const etag = r.headers.get('etag')!;
    const same = await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'if-none-match': etag });
    expect(same.status).toBe(304);
    expect(same.text).toBe('');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'if-none-match': 'W/"999"' })).status).toBe(200);
    const since = await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'if-modified-since': r.headers.get('last-modified')! });
    expect(since.status).toBe(304);
    const before = await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'if-modified-since': 'Mon, 01 Jan 2001 00:00:00 GMT' });
    expect(before.status).toBe(200);
  });

  it('Prefer: return=minimal has no body; OperationOutcome returns an outcome; representation the resource', async () => {
    const minimal = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' }, { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.get('location')).toMatch(/\/Patient\/[^/]+\/_history\/1$/);
    const oo = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' }, { prefer: 'return=OperationOutcome' });
    expect(oo.status).toBe(201);
    expect(oo.body.resourceType).toBe('OperationOutcome');
    const rep = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' }, { prefer: 'return=representation' });
    expect(rep.body.resourceType).toBe('Patient');
  });

  it('Prefer applies to update and delete too; an outcome body carries no internal key', async () => {
    const minimal = await fhir(s.baseUrl, 'PUT', 'Patient/pat-pref', { resourceType: 'Patient', id: 'pat-pref' }, { prefer: 'return=minimal' });
    expect(minimal.status).toBe(201);
    expect(minimal.text).toBe('');
    expect(minimal.headers.get('etag')).toBe('W/"1"');
    const oo = await fhir(s.baseUrl, 'PUT', 'Patient/pat-pref', { resourceType: 'Patient', id: 'pat-pref', active: true }, { prefer: 'return=OperationOutcome' });
    expect(oo.status).toBe(200);
    expect(oo.body.issue[0].details.text).toBe('Updated Patient/pat-pref (version 2)');
    const del = await fhir(s.baseUrl, 'DELETE', 'Patient/pat-pref', undefined, { prefer: 'return=OperationOutcome' });
    expect(del.status).toBe(200);
    expect(del.body).toEqual({ resourceType: 'OperationOutcome', issue: [{ severity: 'information', code: 'informational', details: { text: 'Deleted Patient/pat-pref (version 3)' } }] });
  });

  it('_format=json is served, xml is 406; an Accept that excludes JSON is 406', async () => {
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=json')).status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=application/fhir%2Bjson')).status).toBe(200);
    const xml = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=xml');
    expect(xml.status).toBe(406);
    expect(xml.body.resourceType).toBe('OperationOutcome');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { accept: 'application/fhir+xml' })).status).toBe(406);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { accept: 'application/fhir+json' })).status).toBe(200);
  });

  it('_pretty=true indents the JSON, errors included', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_pretty=true');
    expect(r.text).toContain('\n  "resourceType": "Patient"');
    expect(r.body.id).toBe('pat-h');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h')).text).not.toContain('\n');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_pretty=false')).text).not.toContain('\n');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/nobody?_pretty=true')).text).toContain('\n  "resourceType": "OperationOutcome"');
  });

  it('_summary=true keeps summary elements only and tags SUBSETTED', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_summary=true');
    expect(r.body.name[0].family).toBe('Nguyen');
    expect(r.body.birthDate).toBe('1950-04-01');
    expect(r.body.maritalStatus).toBeUndefined();
    expect(r.body.text).toBeUndefined();
    expect(SUBSETTED(r.body)).toBe(true);
  });

  it('_summary=text keeps the narrative, data drops it, an unknown value is 400', async () => {
    const text = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_summary=text');
    expect(text.body.text.div).toContain('Lan Nguyen');
    expect(text.body.gender).toBeUndefined();
    const data = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_summary=data');
    expect(data.body.text).toBeUndefined();
    expect(data.body.maritalStatus.text).toBe('married');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_summary=everything')).status).toBe(400);
  });

  it('_elements keeps the named elements plus id and meta', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_elements=name,birthDate');
    expect(Object.keys(r.body).sort()).toEqual(['birthDate', 'id', 'meta', 'name', 'resourceType']);
    expect(SUBSETTED(r.body)).toBe(true);
    expect(r.body.meta.versionId).toBeDefined();
    const plain = await fhir(s.baseUrl, 'GET', 'Patient/pat-h');
    expect(SUBSETTED(plain.body)).toBe(false);
  });

  it('_elements keeps mandatory elements besides those asked for, e.g. Observation status and code', async () => {
    const obs = await fhir(s.baseUrl, 'POST', 'Observation', {
      resourceType: 'Observation', status: 'final', code: { text: '10 m walk test' }, subject: { reference: 'Patient/pat-h' },
      valueQuantity: { value: 0.9, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' }, note: [{ text: 'with cane' }],
    });
    const r = await fhir(s.baseUrl, 'GET', `Observation/${obs.body.id}?_elements=subject`);
    expect(Object.keys(r.body).sort()).toEqual(['code', 'id', 'meta', 'resourceType', 'status', 'subject']);
    const value = await fhir(s.baseUrl, 'GET', `Observation/${obs.body.id}?_elements=Observation.value`);
    expect(value.body.valueQuantity.value).toBe(0.9);
    expect(value.body.note).toBeUndefined();
  });

  it('_summary=count on a search gives the total and no entries', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient?_id=pat-h&_summary=count');
    expect(r.body).toMatchObject({ resourceType: 'Bundle', type: 'searchset', total: 1 });
    expect(r.body.entry).toBeUndefined();
    const summary = await fhir(s.baseUrl, 'GET', 'Patient?_id=pat-h&_summary=true');
    expect(summary.body.entry[0].resource.maritalStatus).toBeUndefined();
    expect(SUBSETTED(summary.body.entry[0].resource)).toBe(true);
  });

  it('HEAD answers like GET without a body', async () => {
    const get = await fetch(`${s.baseUrl}/Patient/pat-h`);
    const res = await fetch(`${s.baseUrl}/Patient/pat-h`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toBe(get.headers.get('etag'));
    expect(res.headers.get('content-length')).toBe(get.headers.get('content-length'));
    expect(await res.text()).toBe('');
    const missing = await fetch(`${s.baseUrl}/Patient/nobody`, { method: 'HEAD' });
    expect(missing.status).toBe(404);
    expect(await missing.text()).toBe('');
  });

  it('every response carries a request id, the client one when given', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'x-request-id': 'ehr-abc-123' });
    expect(r.headers.get('x-request-id')).toBe('ehr-abc-123');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
