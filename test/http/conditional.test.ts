/** Conditional create, update, delete and patch (R4 http.html#ccreate, #cond-update, #cdelete). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const NPI = 'http://hl7.org/fhir/sid/us-npi';
const JSON_PATCH = { 'content-type': 'application/json-patch+json' };
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

  it('conditional patch patches the one match; none is 404, several 412', async () => {
    const patchOp = [{ op: 'add', path: '/active', value: true }];
    const r = await fhir(s.baseUrl, 'PATCH', `Practitioner?identifier=${encodeURIComponent(`${NPI}|2222222228`)}`, patchOp, JSON_PATCH);
    expect(r.status).toBe(200);
    expect(r.body.active).toBe(true);
    expect(r.body.meta.versionId).toBe('3');
    const none = await fhir(s.baseUrl, 'PATCH', `Practitioner?identifier=${encodeURIComponent(`${NPI}|9999999999`)}`, patchOp, JSON_PATCH);
    expect(none.status).toBe(404);
    expect(none.body.issue[0].details.text).toBe(`Conditional patch "identifier=${NPI}|9999999999" matches no Practitioner`);
    const several = await fhir(s.baseUrl, 'PATCH', `Practitioner?identifier=${encodeURIComponent(`${NPI}|1111111112`)}`, patchOp, JSON_PATCH);
    expect(several.status).toBe(412);
    expect((await fhir(s.baseUrl, 'GET', `Practitioner?identifier=${encodeURIComponent(`${NPI}|1111111112`)}&active=true`)).body.total).toBe(0);
  });

  it('conditional delete with no match is 204 and deletes nothing', async () => {
    const before = (await fhir(s.baseUrl, 'GET', 'Practitioner?_summary=count')).body.total;
    expect((await fhir(s.baseUrl, 'DELETE', `Practitioner?identifier=${encodeURIComponent(`${NPI}|0000000000`)}`)).status).toBe(204);
    expect((await fhir(s.baseUrl, 'GET', 'Practitioner?_summary=count')).body.total).toBe(before);
  });

  it('criteria with a parameter the server does not know are 400, never widened to every resource', async () => {
    await fhir(s.baseUrl, 'PUT', 'Organization/only-one', { resourceType: 'Organization', id: 'only-one', name: 'Clinic' });
    const del = await fhir(s.baseUrl, 'DELETE', 'Organization?nmae=Clinic');
    expect(del.status).toBe(400);
    expect(del.body.issue[0].details.text).toContain('Unknown search parameter(s) for Organization: nmae');
    expect(del.body.issue[0].details.text).not.toContain('Prefer');
    expect((await fhir(s.baseUrl, 'GET', 'Organization/only-one')).status).toBe(200);
    const put = await fhir(s.baseUrl, 'PUT', 'Organization?nmae=Clinic', { resourceType: 'Organization', name: 'Overwritten' });
    expect(put.status).toBe(400);
    const post = await fhir(s.baseUrl, 'POST', 'Organization', { resourceType: 'Organization', name: 'Clinic' }, { 'if-none-exist': 'nmae=Clinic' });
    expect(post.status).toBe(400);
    const patched = await fhir(s.baseUrl, 'PATCH', 'Organization?nmae=Clinic', [{ op: 'add', path: '/active', value: false }], JSON_PATCH);
    expect(patched.status).toBe(400);
    const read = await fhir(s.baseUrl, 'GET', 'Organization/only-one');
    expect(read.body).toMatchObject({ name: 'Clinic', meta: { versionId: '1' } });
    expect((await fhir(s.baseUrl, 'GET', 'Organization?_summary=count')).body.total).toBe(1);
  });

  it('If-None-Exist may be written as a search URL; criteria for another type are 400', async () => {
    const criteria = `identifier=${NPI}|4444444445`;
    const first = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('4444444445', 'Url'), { 'if-none-exist': `Practitioner?${criteria}` });
    expect(first.status).toBe(201);
    const again = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('4444444445', 'Url'), { 'if-none-exist': `${s.baseUrl}/Practitioner?${criteria}` });
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const other = await fhir(s.baseUrl, 'POST', 'Practitioner', practitioner('4444444445', 'Url'), { 'if-none-exist': `Patient?${criteria}` });
    expect(other.status).toBe(400);
    expect(other.body.issue[0].details.text).toContain('are for Patient, not Practitioner');
  });

  it('conditional update with no match and a body id: creates with that id when free, 409 when it names another resource', async () => {
    const free = await fhir(s.baseUrl, 'PUT', `Practitioner?identifier=${encodeURIComponent(`${NPI}|5555555556`)}`, { ...practitioner('5555555556', 'Chosen'), id: 'chosen-id' });
    expect(free.status).toBe(201);
    expect(free.body.id).toBe('chosen-id');
    await fhir(s.baseUrl, 'PUT', 'Practitioner/bystander', { ...practitioner('6666666667', 'Bystander'), id: 'bystander' });
    const clash = await fhir(s.baseUrl, 'PUT', `Practitioner?identifier=${encodeURIComponent(`${NPI}|7777777778`)}`, { ...practitioner('7777777778', 'Intruder'), id: 'bystander' });
    expect(clash.status).toBe(409);
    expect(clash.body.issue[0].details.text).toContain('names an existing one');
    const bystander = await fhir(s.baseUrl, 'GET', 'Practitioner/bystander');
    expect(bystander.body).toMatchObject({ name: [{ family: 'Bystander' }], meta: { versionId: '1' } });
  });
});
