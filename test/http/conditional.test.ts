/** Conditional create, update, delete and patch (R4 http.html#ccreate, #cond-update, #cdelete). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const practitioner = (npi: string, family: string) => ({ resourceType: 'Practitioner', identifier: [{ system: NPI, value: npi }], name: [{ family }] });

describeEachEngine('conditional interactions', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('If-None-Exist: no match creates (201), one match returns it (200) and creates nothing', async () => {
    const criteria = { 'if-none-exist': `identifier=${NPI}|1234567893` };
    const first = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('1234567893', 'Reyes'), criteria);
    expect(first.status).toBe(201);
    const second = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('1234567893', 'Reyes'), criteria);
    expect(second.status).toBe(200);
    expect(second.body.id).toBe(first.body.id);
    const history = await fhir(s.baseUrl, 'GET', 'Practitioner/_history');
    expect(history.body.entry.length).toBe(1);
  });

  it('If-None-Exist matching several is 412', async () => {
    await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('1111111112', 'Twin'));
    await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('1111111112', 'Twin'));
    const r = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('1111111112', 'Twin'), { 'if-none-exist': `identifier=${NPI}|1111111112` });
    expect(r.status).toBe(412);
  });

  it('conditional update: no match creates, one match updates, an id mismatch is 400, several are 412', async () => {
    const url = `Practitioner?identifier=${encodeURIComponent(`${NPI}|2222222228`)}`;
    const created = await fhir(s.baseUrl, 'PUT', url, practitioner('2222222228', 'Kim'));
    expect(created.status).toBe(201);
    const updated = await fhir(s.baseUrl, 'PUT', url, { ...practitioner('2222222228', 'Kim-Lee') });
    expect(updated.status).toBe(200);
    expect(updated.body.id).toBe(created.body.id);
    expect(updated.body.meta.versionId).toBe('2');
    expect((await fhir(s.baseUrl, 'PUT', url, { ...practitioner('2222222228', 'X'), id: 'other' })).status).toBe(400);
    expect((await fhir(s.baseUrl, 'PUT', `Practitioner?identifier=${encodeURIComponent(`${NPI}|1111111112`)}`, practitioner('1111111112', 'Twin'))).status).toBe(412);
    expect((await fhir(s.baseUrl, 'PUT', 'Practitioner', practitioner('3', 'NoCriteria'))).status).toBe(400);
  });

  it('conditional delete removes the one match, and 412s on several', async () => {
    await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('3333333334', 'Leaving'));
    const del = await fhir(s.baseUrl, 'DELETE', `Practitioner?identifier=${encodeURIComponent(`${NPI}|3333333334`)}`);
    expect(del.status).toBe(204);
    const search = await fhir(s.baseUrl, 'GET', `Practitioner?identifier=${encodeURIComponent(`${NPI}|3333333334`)}`);
    expect(search.body.total).toBe(0);
    expect((await fhir(s.baseUrl, 'DELETE', `Practitioner?identifier=${encodeURIComponent(`${NPI}|1111111112`)}`)).status).toBe(412);
  });

  it('conditional patch patches the one match', async () => {
    const r = await fhir(s.baseUrl, 'PATCH', `Practitioner?identifier=${encodeURIComponent(`${NPI}|2222222228`)}`, [{ op: 'add', path: '/active', value: true }], { 'content-type': 'application/json-patch+json' });
    expect(r.status).toBe(200);
    expect(r.body.active).toBe(true);
    expect(r.body.meta.versionId).toBe('3');
  });
});
