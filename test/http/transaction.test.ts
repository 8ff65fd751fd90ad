/** Transaction Bundles (R4 http.html#transaction, #trules). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const MRN = 'urn:stride:test:mrn';
const tx = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const post = (fullUrl: string, resource: any, extra: Record<string, string> = {}) => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType, ...extra } });
const put = (resource: any, url = `${resource.resourceType}/${resource.id}`) => ({ resource, request: { method: 'PUT', url } });
const patch = (url: string, ops: unknown[]) => ({
  resource: { resourceType: 'Binary', contentType: 'application/json-patch+json', data: Buffer.from(JSON.stringify(ops)).toString('base64') },
  request: { method: 'PATCH', url },
});
const idOf = (location: string) => location.split('/_history')[0];
let unique = 0;
const mrn = () => `${Date.now().toString(36)}-${++unique}`;

describeEachEngine('transaction', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_MAX_BUNDLE_ENTRIES: '50' });
  });
  afterAll(async () => s?.close());
  const send = (entry: unknown[], headers?: Record<string, string>) => fhir(s.baseUrl, 'POST', '', tx(entry), headers);
  const get = (path: string) => fhir(s.baseUrl, 'GET', path);

  it('resolves urn:uuid references across entries and answers an entry per request, in order', async () => {
    const r = await send([
      post('urn:uuid:enc-1', { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:pat-1' } }),
      post('urn:uuid:pat-1', { resourceType: 'Patient', name: [{ family: 'Abebe' }] }),
      post('urn:uuid:proc-1', { resourceType: 'Procedure', status: 'completed', subject: { reference: 'urn:uuid:pat-1' }, encounter: { reference: 'urn:uuid:enc-1' } }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('transaction-response');
    const [enc, pat, proc] = r.body.entry;
    expect(enc.response.location).toMatch(/^Encounter\/[0-9a-f-]{36}\/_history\/1$/);
    expect(pat.response.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/);
    expect(proc.response.location).toMatch(/^Procedure\//);
    for (const e of r.body.entry) {
      expect(e.response.status).toBe('201 Created');
      expect(e.response.etag).toBe('W/"1"');
      expect(e.fullUrl).toBe(`${s.baseUrl}/${idOf(e.response.location)}`);
      expect(e.resource).toBeUndefined(); // no Prefer: minimal entries
      const stored = await get(idOf(e.response.location));
      expect(e.response.lastModified).toBe(stored.body.meta.lastUpdated);
    }
    const procedure = await get(idOf(proc.response.location));
    expect(procedure.body.subject.reference).toBe(idOf(pat.response.location));
    expect(procedure.body.encounter.reference).toBe(idOf(enc.response.location));
  });

  it('rewrites links to entries in the narrative too (R4 http.html#trules)', async () => {
    const div = '<div xmlns="http://www.w3.org/1999/xhtml">Seen by <a href="urn:uuid:pr-n">the therapist</a></div>';
    const r = await send([
      post('urn:uuid:pr-n', { resourceType: 'Practitioner', name: [{ family: 'Okafor' }] }),
      post('urn:uuid:pa-n', { resourceType: 'Patient', text: { status: 'generated', div }, generalPractitioner: [{ reference: 'urn:uuid:pr-n' }] }),
    ]);
    expect(r.status).toBe(200);
    const practitioner = idOf(r.body.entry[0].response.location);
    expect((await get(idOf(r.body.entry[1].response.location))).body.text.div).toContain(`<a href="${practitioner}">`);
  });

  it('is all or nothing: an invalid entry rolls back every entry, and the error names it with its status', async () => {
    const r = await send([
      put({ resourceType: 'Patient', id: 'rollback-1', name: [{ family: 'Gone' }] }),
      post('urn:uuid:obs', { resourceType: 'Observation', code: { text: 'no status' } }),
    ]);
    expect(r.status).toBe(400);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].details.text).toMatch(/^Bundle\.entry\[1\] \(POST Observation\): .*status/);
    expect((await get('Patient/rollback-1')).status).toBe(404);
  });

  it('fails with the failing entry\'s own status: 412 for a stale If-Match, 404 for a GET of nothing', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/im-1', { resourceType: 'Patient', id: 'im-1' });
    const stale = await send([
      put({ resourceType: 'Patient', id: 'im-new', gender: 'female' }),
      { resource: { resourceType: 'Patient', id: 'im-1', gender: 'male' }, request: { method: 'PUT', url: 'Patient/im-1', ifMatch: 'W/"7"' } },
    ]);
    expect(stale.status).toBe(412);
    expect(stale.body.issue[0].details.text).toMatch(/^Bundle\.entry\[1\] \(PUT Patient\/im-1\)/);
    const missing = await send([put({ resourceType: 'Patient', id: 'im-new', gender: 'female' }), { request: { method: 'GET', url: 'Patient/never-there' } }]);
    expect(missing.status).toBe(404);
    expect(missing.body.issue[0].details.text).toMatch(/^Bundle\.entry\[1\] \(GET Patient\/never-there\)/);
    expect((await get('Patient/im-new')).status).toBe(404);
    expect((await get('Patient/im-1')).body.meta.versionId).toBe('1');
  });

  it('runs DELETE, POST, PUT/PATCH, then GET, so a GET sees the Bundle\'s writes', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/old', { resourceType: 'Patient', id: 'old' });
    await fhir(s.baseUrl, 'PUT', 'Patient/pt-order', { resourceType: 'Patient', id: 'pt-order' });
    const r = await send([
      { request: { method: 'GET', url: 'Patient/fresh' } },
      patch('Patient/pt-order', [{ op: 'add', path: '/gender', value: 'female' }]),
      put({ resourceType: 'Patient', id: 'fresh', gender: 'male' }),
      { request: { method: 'GET', url: 'Patient/pt-order' } },
      { request: { method: 'DELETE', url: 'Patient/old' } },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.entry.map((e: any) => e.response.status)).toEqual(['200 OK', '200 OK', '201 Created', '200 OK', '204 No Content']);
    expect(r.body.entry[0].resource.gender).toBe('male');
    expect(r.body.entry[3].resource.gender).toBe('female');
    expect(r.body.entry[4].response.etag).toBe('W/"2"');
    expect((await get('Patient/old')).status).toBe(410);
  });

  it('runs a DELETE before a POST: a conditional create no longer finds what the same Bundle deletes', async () => {
    const id = mrn();
    const existing = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: MRN, value: id }] });
    const r = await send([
      post('urn:uuid:again', { resourceType: 'Patient', identifier: [{ system: MRN, value: id }], gender: 'other' }, { ifNoneExist: `identifier=${MRN}|${id}` }),
      { request: { method: 'DELETE', url: `Patient?identifier=${MRN}|${id}` } },
    ]);
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response.status).toBe('201 Created');
    expect(r.body.entry[1].response.status).toBe('204 No Content');
    expect(idOf(r.body.entry[0].response.location)).not.toBe(`Patient/${existing.body.id}`);
    expect((await get(`Patient/${existing.body.id}`)).status).toBe(410);
    expect((await get(idOf(r.body.entry[0].response.location))).body.gender).toBe('other');
  });

  it('resolves ifNoneExist, conditional PUT and conditional references against the database', async () => {
    const npi = `1${String(Date.now()).slice(-9)}`;
    const org = `2${String(Date.now()).slice(-9)}`;
    const existing = await fhir(s.baseUrl, 'POST', 'Practitioner', { resourceType: 'Practitioner', identifier: [{ system: NPI, value: npi }] });
    const r = await send([
      post('urn:uuid:pr', { resourceType: 'Practitioner', identifier: [{ system: NPI, value: npi }] }, { ifNoneExist: `identifier=${NPI}|${npi}` }),
      { fullUrl: 'urn:uuid:org', resource: { resourceType: 'Organization', identifier: [{ system: NPI, value: org }], name: 'Clinic' }, request: { method: 'PUT', url: `Organization?identifier=${NPI}|${org}` } },
      post('urn:uuid:role', { resourceType: 'PractitionerRole', practitioner: { reference: 'urn:uuid:pr' }, organization: { reference: 'urn:uuid:org' } }),
      post('urn:uuid:role2', { resourceType: 'PractitionerRole', practitioner: { reference: `Practitioner?identifier=${NPI}|${npi}` } }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response.status).toBe('200 OK'); // matched: nothing created
    expect(r.body.entry[0].response.location).toBe(`Practitioner/${existing.body.id}/_history/1`);
    expect(r.body.entry[1].response.status).toBe('201 Created');
    const role = await get(idOf(r.body.entry[2].response.location));
    expect(role.body.practitioner.reference).toBe(`Practitioner/${existing.body.id}`);
    expect(role.body.organization.reference).toBe(idOf(r.body.entry[1].response.location));
    expect((await get(idOf(r.body.entry[3].response.location))).body.practitioner.reference).toBe(`Practitioner/${existing.body.id}`);

    // The same conditional PUT again updates the Organization it created.
    const again = await send([{ resource: { resourceType: 'Organization', identifier: [{ system: NPI, value: org }], name: 'Clinic 2' }, request: { method: 'PUT', url: `Organization?identifier=${NPI}|${org}` } }]);
    expect(again.body.entry[0].response.status).toBe('200 OK');
    expect(again.body.entry[0].response.location).toBe(`${idOf(r.body.entry[1].response.location)}/_history/2`);
  });

  it('resolves a conditional reference and a repeated ifNoneExist by the entry of the Bundle with the same criteria', async () => {
    const id = mrn();
    const r = await send([
      post('urn:uuid:obs-c', { resourceType: 'Observation', status: 'final', code: { text: 'gait speed' }, subject: { reference: `Patient?identifier=${MRN}|${id}` } }),
      post('urn:uuid:pat-c', { resourceType: 'Patient', identifier: [{ system: MRN, value: id }] }, { ifNoneExist: `identifier=${MRN}|${id}` }),
      post('urn:uuid:pat-c2', { resourceType: 'Patient', identifier: [{ system: MRN, value: id }] }, { ifNoneExist: `Patient?identifier=${encodeURIComponent(`${MRN}|${id}`)}` }),
    ]);
    expect(r.status).toBe(200);
    expect(r.body.entry.map((e: any) => e.response.status)).toEqual(['201 Created', '201 Created', '200 OK']);
    const patient = idOf(r.body.entry[1].response.location);
    expect(idOf(r.body.entry[2].response.location)).toBe(patient); // one Patient, not two
    expect((await get(idOf(r.body.entry[0].response.location))).body.subject.reference).toBe(patient);
  });

  it('refuses a conditional reference that matches no resource or several (412), naming the entry', async () => {
    const id = mrn();
    for (let i = 0; i < 2; i++) await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', identifier: [{ system: MRN, value: id }] });
    for (const [criteria, text] of [[`identifier=${MRN}|${id}`, 'more than one'], [`identifier=${MRN}|none-${id}`, 'matches no']]) {
      const r = await send([
        put({ resourceType: 'Patient', id: 'cr-never' }),
        post('urn:uuid:o', { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: `Patient?${criteria}` } }),
      ]);
      expect(r.status).toBe(412);
      expect(r.body.issue[0].details.text).toMatch(new RegExp(`^Bundle\\.entry\\[1\\] .*${text}`));
    }
    expect((await get('Patient/cr-never')).status).toBe(404);
  });

  it('refuses two entries that write the same resource (400), whichever way they name it', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/dup-c', { resourceType: 'Patient', id: 'dup-c', identifier: [{ system: MRN, value: 'dup-c' }] });
    const cases = [
      [put({ resourceType: 'Patient', id: 'dup' }), put({ resourceType: 'Patient', id: 'dup', gender: 'male' })],
      [{ request: { method: 'DELETE', url: 'Patient/dup' } }, put({ resourceType: 'Patient', id: 'dup' })],
      [put({ resourceType: 'Patient', id: 'dup-c' }), { resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'PUT', url: `Patient?identifier=${MRN}|dup-c` } }],
      [patch('Patient/dup-c', [{ op: 'add', path: '/active', value: true }]), { request: { method: 'DELETE', url: `Patient?identifier=${MRN}|dup-c` } }],
    ];
    for (const entries of cases) {
      const r = await send(entries);
      expect(r.status, JSON.stringify(entries)).toBe(400);
      expect(r.body.issue[0].details.text).toMatch(/Bundle\.entry\[\d\].*also written by Bundle\.entry\[\d\]/);
    }
    expect((await get('Patient/dup')).status).toBe(404);
    expect((await get('Patient/dup-c')).body.meta.versionId).toBe('1');
  });

  it('patches through a Binary JSON Patch entry; a patch that cannot apply fails the transaction', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/tp', { resourceType: 'Patient', id: 'tp' });
    const r = await send([patch('Patient/tp', [{ op: 'add', path: '/active', value: true }])]);
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response).toMatchObject({ status: '200 OK', location: 'Patient/tp/_history/2', etag: 'W/"2"' });
    expect((await get('Patient/tp')).body.active).toBe(true);
    const bad = await send([patch('Patient/tp', [{ op: 'replace', path: '/gender', value: 'male' }])]);
    expect(bad.status).toBe(422);
    expect(bad.body.issue[0].details.text).toMatch(/^Bundle\.entry\[0\] \(PATCH Patient\/tp\)/);
    expect((await send([{ request: { method: 'PATCH', url: 'Patient/tp' } }])).status).toBe(400);
  });

  it('Prefer: return=representation puts the stored resources in the response; OperationOutcome the outcomes', async () => {
    const r = await send([post('urn:uuid:x', { resourceType: 'Patient', gender: 'other' })], { prefer: 'return=representation' });
    expect(r.body.entry[0].resource).toMatchObject({ resourceType: 'Patient', gender: 'other', meta: { versionId: '1' } });
    expect(r.body.entry[0].resource.id).toBe(idOf(r.body.entry[0].response.location).split('/')[1]);
    const o = await send([put({ resourceType: 'Patient', id: 'pref-oo' })], { prefer: 'return=OperationOutcome' });
    expect(o.body.entry[0].response.outcome.resourceType).toBe('OperationOutcome');
    expect(o.body.entry[0].resource).toBeUndefined();
  });

  it('refuses malformed Bundles with 400 (413 when too large), writing nothing', async () => {
    const bad = async (body: unknown, status: number, text: RegExp) => {
      const r = await fhir(s.baseUrl, 'POST', '', body);
      expect(r.status, JSON.stringify(body).slice(0, 200)).toBe(status);
      expect(r.body.issue[0].details.text).toMatch(text);
    };
    await bad({ resourceType: 'Bundle', type: 'collection', entry: [put({ resourceType: 'Patient', id: 'mal' })] }, 400, /batch or transaction, not "collection"/);
    await bad({ resourceType: 'Patient' }, 400, /Bundle/);
    await bad(tx([put({ resourceType: 'Patient', id: 'mal' }), { resource: { resourceType: 'Patient' } }]), 400, /Bundle\.entry\[1\]\.request needs a method/);
    await bad(tx([{ request: { method: 'POST', url: 'Patient' } }]), 400, /Bundle\.entry\[0\] is a POST without a resource/);
    await bad(tx([put({ resourceType: 'Patient', id: 'mal' }), post('urn:uuid:p', { resourceType: 'Patient', link: [{ other: { reference: 'urn:uuid:nowhere' }, type: 'seealso' }] })]), 400, /urn:uuid:nowhere, which is not the fullUrl of any entry/);
    await bad(tx([post('urn:uuid:same', { resourceType: 'Patient' }), post('urn:uuid:same', { resourceType: 'Patient' })]), 400, /fullUrls must be unique/);
    await bad(tx([{ request: { method: 'GET', url: 'http://elsewhere.example/fhir/Patient/1' } }]), 400, /not on this server/);
    await bad(tx([post('urn:uuid:x', { resourceType: 'Patient' }, { ifNoneExist: 42 as unknown as string })]), 400, /ifNoneExist must be a string/);
    await bad(tx([put({ resourceType: 'Patient', id: 'mal' }), post('urn:uuid:foo', { resourceType: 'Foo' })]), 404, /Bundle\.entry\[1\] \(POST Foo\): Unknown resource type "Foo"/);
    await bad(tx(Array.from({ length: 51 }, (_, i) => post(`urn:uuid:${i}`, { resourceType: 'Patient' }))), 413, /51 entries.*at most 50/);
    expect((await get('Patient/mal')).status).toBe(404);
  });
});
