/** Conditional reads, Prefer, _format, _pretty, _summary, _elements, HEAD (R4 http.html, search.html#summary). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const PATIENT = {
  resourceType: 'Patient', id: 'pat-h', active: true, gender: 'female', birthDate: '1950-04-01',
  name: [{ family: 'Nguyen', given: ['Lan'] }], maritalStatus: { text: 'married' },
  text: { status: 'generated', div: '<div xmlns="http://www.w3.org/1999/xhtml">Lan Nguyen</div>' },
};
const SUBSETTED = (r: any) => r.meta?.tag?.some((t: any) => t.code === 'SUBSETTED');

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

  it('_format=json is served, xml is 406; an Accept that excludes JSON is 406', async () => {
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=json')).status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=application/fhir%2Bjson')).status).toBe(200);
    const xml = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_format=xml');
    expect(xml.status).toBe(406);
    expect(xml.body.resourceType).toBe('OperationOutcome');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { accept: 'application/fhir+xml' })).status).toBe(406);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { accept: 'application/fhir+json' })).status).toBe(200);
  });

  it('_pretty=true indents the JSON', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h?_pretty=true');
    expect(r.text).toContain('\n  "resourceType": "Patient"');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h')).text).not.toContain('\n');
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
  });

  it('HEAD answers like GET without a body', async () => {
    const res = await fetch(`${s.baseUrl}/Patient/pat-h`, { method: 'HEAD' });
    expect(res.status).toBe(200);
    expect(res.headers.get('etag')).toMatch(/^W\/"\d+"$/);
    expect(await res.text()).toBe('');
  });

  it('every response carries a request id, the client one when given', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/pat-h', undefined, { 'x-request-id': 'ehr-abc-123' });
    expect(r.headers.get('x-request-id')).toBe('ehr-abc-123');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-h')).headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
  });
});
