/** Transaction and batch Bundles (R4 http.html#transaction). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const tx = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const batch = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });
const post = (fullUrl: string, resource: unknown, extra: Record<string, string> = {}) => ({ fullUrl, resource, request: { method: 'POST', url: (resource as any).resourceType, ...extra } });

describeEachEngine('transaction and batch', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_MAX_BUNDLE_ENTRIES: '50' });
  });
  afterAll(async () => s?.close());

  it('resolves urn:uuid references across entries and answers an entry per request, in order', async () => {
    const r = await fhir(s.baseUrl, 'POST', '', tx([
      post('urn:uuid:enc-1', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:pat-1' } }),
      post('urn:uuid:pat-1', { resourceType: 'Patient', name: [{ family: 'Abebe' }] }),
      post('urn:uuid:proc-1', { resourceType: 'Procedure', status: 'completed', subject: { reference: 'urn:uuid:pat-1' }, encounter: { reference: 'urn:uuid:enc-1' } }),
    ]));
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('transaction-response');
    const [enc, pat, proc] = r.body.entry;
    for (const e of r.body.entry) {
      expect(e.response.status).toBe('201 Created');
      expect(e.response.etag).toBe('W/"1"');
      expect(e.response.lastModified).toMatch(/^\d{4}-/);
    }
    expect(pat.response.location).toMatch(/^Patient\/[^/]+\/_history\/1$/);
    const patId = pat.response.location.split('/')[1];
    const encId = enc.response.location.split('/')[1];
    const procedure = await fhir(s.baseUrl, 'GET', proc.response.location.split('/_history')[0]);
    expect(procedure.body.subject.reference).toBe(`Patient/${patId}`);
    expect(procedure.body.encounter.reference).toBe(`Encounter/${encId}`);
  });

  it('is all or nothing: one invalid entry rolls back every entry and the error names it', async () => {
    const r = await fhir(s.baseUrl, 'POST', '', tx([
      post('urn:uuid:a', { resourceType: 'Patient', identifier: [{ system: 'urn:t', value: 'rollback' }] }),
      post('urn:uuid:b', { resourceType: 'Observation', code: { text: 'no status' } }),
    ]));
    expect(r.status).toBe(400);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].details.text).toMatch(/Bundle\.entry\[1\]/);
    const search = await fhir(s.baseUrl, 'GET', 'Patient?identifier=urn:t|rollback');
    expect(search.body.total).toBe(0);
  });

  it('runs DELETE, POST, PUT, then GET, so a GET sees the Bundle\'s writes', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/old', { resourceType: 'Patient', id: 'old' });
    const r = await fhir(s.baseUrl, 'POST', '', tx([
      { request: { method: 'GET', url: 'Patient/fresh' } },
      { resource: { resourceType: 'Patient', id: 'fresh', gender: 'male' }, request: { method: 'PUT', url: 'Patient/fresh' } },
      { request: { method: 'DELETE', url: 'Patient/old' } },
    ]));
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response.status).toBe('200 OK');
    expect(r.body.entry[0].resource.gender).toBe('male');
    expect(r.body.entry[1].response.status).toBe('201 Created');
    expect(r.body.entry[2].response.status).toBe('204 No Content');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/old')).status).toBe(410);
  });

  it('resolves ifNoneExist, conditional PUT and conditional references', async () => {
    const existing = await fhir(s.baseUrl, 'POST', 'Practitioner', { resourceType: 'Practitioner', identifier: [{ system: NPI, value: '1234567893' }] });
    const r = await fhir(s.baseUrl, 'POST', '', tx([
      post('urn:uuid:pr', { resourceType: 'Practitioner', identifier: [{ system: NPI, value: '1234567893' }] }, { ifNoneExist: `identifier=${NPI}|1234567893` }),
      { fullUrl: 'urn:uuid:org', resource: { resourceType: 'Organization', identifier: [{ system: NPI, value: '1999999992' }], name: 'Clinic' }, request: { method: 'PUT', url: `Organization?identifier=${NPI}|1999999992` } },
      post('urn:uuid:role', { resourceType: 'PractitionerRole', practitioner: { reference: 'urn:uuid:pr' }, organization: { reference: 'urn:uuid:org' } }),
      post('urn:uuid:role2', { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner?identifier=${NPI}|1234567893` } }),
    ]));
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response.status).toBe('200 OK');
    expect(r.body.entry[0].response.location).toContain(existing.body.id);
    expect(r.body.entry[1].response.status).toBe('201 Created');
    const role = await fhir(s.baseUrl, 'GET', r.body.entry[2].response.location.split('/_history')[0]);
    expect(role.body.practitioner.reference).toBe(`Practitioner/${existing.body.id}`);
    expect(role.body.organization.reference).toBe(r.body.entry[1].response.location.split('/_history')[0]);
    const role2 = await fhir(s.baseUrl, 'GET', r.body.entry[3].response.location.split('/_history')[0]);
    expect(role2.body.practitioner.reference).toBe(`Practitioner/${existing.body.id}`);
  });

  it('patches through a Binary JSON Patch entry', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/tp', { resourceType: 'Patient', id: 'tp' });
    const data = Buffer.from(JSON.stringify([{ op: 'add', path: '/active', value: true }])).toString('base64');
    const r = await fhir(s.baseUrl, 'POST', '', tx([{ resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data }, request: { method: 'PATCH', url: 'Patient/tp' } }]));
    expect(r.status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/tp')).body.active).toBe(true);
  });

  it('Prefer: return=representation puts the resources in the response', async () => {
    const r = await fhir(s.baseUrl, 'POST', '', tx([post('urn:uuid:x', { resourceType: 'Patient', gender: 'other' })]), { prefer: 'return=representation' });
    expect(r.body.entry[0].resource.gender).toBe('other');
  });

  it('refuses malformed Bundles with 400 (or 413 when too large), writing nothing', async () => {
    const bad = async (body: unknown, status = 400) => expect((await fhir(s.baseUrl, 'POST', '', body)).status).toBe(status);
    await bad({ resourceType: 'Bundle', type: 'collection', entry: [] });
    await bad({ resourceType: 'Patient' });
    await bad(tx([{ resource: { resourceType: 'Patient' } }]));
    await bad(tx([post('urn:uuid:p', { resourceType: 'Patient', link: [{ other: { reference: 'urn:uuid:nowhere' }, type: 'seealso' }] })]));
    await bad(tx([
      { resource: { resourceType: 'Patient', id: 'dup' }, request: { method: 'PUT', url: 'Patient/dup' } },
      { resource: { resourceType: 'Patient', id: 'dup' }, request: { method: 'PUT', url: 'Patient/dup' } },
    ]));
    await bad(tx([post('urn:uuid:p', { resourceType: 'Patient', link: [{ other: { reference: 'Patient?identifier=none|none' }, type: 'seealso' }] })]), 412);
    await bad(tx(Array.from({ length: 51 }, (_, i) => post(`urn:uuid:${i}`, { resourceType: 'Patient' }))), 413);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/dup')).status).toBe(404);
  });

  it('batch: entries are independent; a bad one gets its own error while the others succeed', async () => {
    const r = await fhir(s.baseUrl, 'POST', '', batch([
      { resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', gender: 'female', birthDate: 'never' }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      { resource: { resourceType: 'Patient', id: 'b3' }, request: { method: 'PUT', url: 'Patient/b3' } },
    ]));
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('batch-response');
    expect(r.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['201', '400', '404', '201']);
    expect(r.body.entry[1].response.outcome.issue[0].expression).toEqual(['Patient.birthDate']);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/b3')).status).toBe(200);
  });
});
