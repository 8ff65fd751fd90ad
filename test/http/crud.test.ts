/** read, vread, create, update (upsert), delete over HTTP (R4 http.html). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { loadDefinitions } from '../../src/validation/definitions.js';

describeEachEngine('CRUD', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('create assigns its own id, ignores the client id, and answers 201 with Location and ETag', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', id: 'mine', name: [{ family: 'Okafor' }] });
    expect(r.status).toBe(201);
    expect(r.body.id).not.toBe('mine');
    expect(r.body.meta.versionId).toBe('1');
    expect(r.headers.get('location')).toBe(`${s.baseUrl}/Patient/${r.body.id}/_history/1`);
    expect(r.headers.get('etag')).toBe('W/"1"');
    expect(new Date(r.headers.get('last-modified')!).getTime()).toBeGreaterThan(Date.now() - 60_000);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/mine')).status).toBe(404);
  });

  it('assigned ids are time-ordered UUIDs (version 7): a later create sorts after an earlier one', async () => {
    const first = await fhir(s.baseUrl, 'POST', 'Basic', { resourceType: 'Basic', code: { text: 'first' } });
    await new Promise((resolve) => setTimeout(resolve, 5));
    const second = await fhir(s.baseUrl, 'POST', 'Basic', { resourceType: 'Basic', code: { text: 'second' } });
    const v7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;
    expect(first.body.id).toMatch(v7);
    expect(second.body.id).toMatch(v7);
    expect(second.body.id > first.body.id).toBe(true);
    // The first 48 bits are the creation time in milliseconds.
    const ms = Number.parseInt(first.body.id.replace('-', '').slice(0, 12), 16);
    expect(Math.abs(ms - new Date(first.body.meta.lastUpdated).getTime())).toBeLessThan(1000);
  });

  it("a stored resource leads with resourceType, id and meta (the client's meta members kept), then the client's members in its order", async () => {
    const body = { gender: 'female', meta: { tag: [{ code: 't' }], versionId: '9' }, name: [{ family: 'Adeyemi' }], resourceType: 'Patient', birthDate: '1950-02-03', id: 'pat-order' };
    const put = await fhir(s.baseUrl, 'PUT', 'Patient/pat-order', body);
    const read = await fhir(s.baseUrl, 'GET', 'Patient/pat-order');
    for (const r of [put, read]) {
      expect(Object.keys(r.body)).toEqual(['resourceType', 'id', 'meta', 'gender', 'name', 'birthDate']);
      expect(Object.keys(r.body.meta)).toEqual(['tag', 'versionId', 'lastUpdated']);
      expect(r.body.meta).toMatchObject({ tag: [{ code: 't' }], versionId: '1' });
    }
  });

  it('update with a client id creates (201), then updates (200) with the next version', async () => {
    const first = await fhir(s.baseUrl, 'PUT', 'Patient/pat-upsert', { resourceType: 'Patient', id: 'pat-upsert', gender: 'female' });
    expect(first.status).toBe(201);
    expect(first.body.meta.versionId).toBe('1');
    const second = await fhir(s.baseUrl, 'PUT', 'Patient/pat-upsert', { resourceType: 'Patient', id: 'pat-upsert', gender: 'male' });
    expect(second.status).toBe(200);
    expect(second.body.meta.versionId).toBe('2');
    expect(second.headers.get('etag')).toBe('W/"2"');
    const read = await fhir(s.baseUrl, 'GET', 'Patient/pat-upsert');
    expect(read.body.gender).toBe('male');
  });

  it('vread returns each version as it was', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/pat-v', { resourceType: 'Patient', id: 'pat-v', gender: 'female' });
    await fhir(s.baseUrl, 'PUT', 'Patient/pat-v', { resourceType: 'Patient', id: 'pat-v', gender: 'other' });
    const v1 = await fhir(s.baseUrl, 'GET', 'Patient/pat-v/_history/1');
    expect(v1.status).toBe(200);
    expect(v1.body.gender).toBe('female');
    expect(v1.headers.get('etag')).toBe('W/"1"');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-v/_history/2')).body.gender).toBe('other');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-v/_history/3')).status).toBe(404);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-v/_history/abc')).status).toBe(404);
  });

  it('read of a missing resource is 404 with an OperationOutcome', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient/nope');
    expect(r.status).toBe(404);
    expect(r.body.resourceType).toBe('OperationOutcome');
    expect(r.body.issue[0].details.text).toContain('Patient/nope');
  });

  it('delete: 204, then read is 410, history keeps the versions, a second delete is 204, update revives it', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/pat-del', { resourceType: 'Patient', id: 'pat-del', active: true });
    const del = await fhir(s.baseUrl, 'DELETE', 'Patient/pat-del');
    expect(del.status).toBe(204);
    expect(del.headers.get('etag')).toBe('W/"2"');
    const gone = await fhir(s.baseUrl, 'GET', 'Patient/pat-del');
    expect(gone.status).toBe(410);
    expect(gone.body.resourceType).toBe('OperationOutcome');
    expect(gone.body.issue[0].details.text).toBe('Patient/pat-del was deleted (version 2)');
    const old = await fhir(s.baseUrl, 'GET', 'Patient/pat-del/_history/1');
    expect(old.status).toBe(200);
    expect(old.body.active).toBe(true);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-del/_history/2')).status).toBe(410);
    const history = await fhir(s.baseUrl, 'GET', 'Patient/pat-del/_history');
    expect(history.body.total).toBe(2);
    expect(history.body.entry.map((e: any) => e.request.method)).toEqual(['DELETE', 'POST']);
    const again = await fhir(s.baseUrl, 'DELETE', 'Patient/pat-del');
    expect(again.status).toBe(204);
    expect(again.text).toBe('');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-del/_history')).body.total).toBe(2);
    expect((await fhir(s.baseUrl, 'DELETE', 'Patient/never-there')).status).toBe(204);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/never-there')).status).toBe(404);
    const revived = await fhir(s.baseUrl, 'PUT', 'Patient/pat-del', { resourceType: 'Patient', id: 'pat-del', active: false });
    expect(revived.status).toBe(201);
    expect(revived.body.meta.versionId).toBe('3');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/pat-del')).body).toMatchObject({ active: false, meta: { versionId: '3' } });
  });

  it('a read returns the resource as written, with the server-owned id and meta only added', async () => {
    const written = {
      resourceType: 'Patient', id: 'pat-round', active: true, name: [{ family: 'Müller-Øberg', given: ['Zoë', '李'] }],
      extension: [{ url: 'https://acme-rehab.com/fhir/StructureDefinition/preferred-clinic', valueString: 'North' }],
      meta: { versionId: '99', lastUpdated: '2001-01-01T00:00:00Z', tag: [{ system: 'https://acme-rehab.com/tags', code: 'rehab' }] },
      birthDate: '1950-04-01', multipleBirthInteger: 2,
    };
    await fhir(s.baseUrl, 'PUT', 'Patient/pat-round', written);
    const read = await fhir(s.baseUrl, 'GET', 'Patient/pat-round');
    const { meta, ...rest } = read.body;
    const { meta: sentMeta, ...sent } = written;
    expect(rest).toEqual(sent);
    expect(meta.versionId).toBe('1');
    expect(meta.tag).toEqual(sentMeta.tag);
    expect(Date.parse(meta.lastUpdated)).toBeGreaterThan(Date.parse('2020-01-01'));
  });

  it('serves every R4 resource type: a missing one of each is "not found", never "unknown type"', async () => {
    const types = loadDefinitions().resourceTypes;
    expect(types.length).toBeGreaterThanOrEqual(145);
    const replies = await Promise.all(types.map((t) => fhir(s.baseUrl, 'GET', `${t}/x`)));
    replies.forEach((r, i) => {
      expect(r.status, types[i]).toBe(404);
      expect(r.body.issue[0].details.text).toBe(`${types[i]}/x not found`);
    });
  });

  it('creates and reads resources of the therapy workflow: Procedure, Claim, EpisodeOfCare', async () => {
    const resources = [
      {
        resourceType: 'Procedure', status: 'completed', subject: { reference: 'Patient/pat-upsert' },
        code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97116', display: 'Gait training' }] },
        performedPeriod: { start: '2026-03-02T10:00:00Z', end: '2026-03-02T10:23:00Z' },
      },
      {
        resourceType: 'Claim', status: 'draft', use: 'claim', created: '2026-03-02', patient: { reference: 'Patient/pat-upsert' },
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'professional' }] },
        provider: { reference: 'Organization/clinic' }, priority: { coding: [{ code: 'normal' }] }, insurance: [{ sequence: 1, focal: true, coverage: { reference: 'Coverage/c1' } }],
      },
      { resourceType: 'EpisodeOfCare', status: 'active', patient: { reference: 'Patient/pat-upsert' } },
    ];
    for (const resource of resources) {
      const created = await fhir(s.baseUrl, 'POST', resource.resourceType, resource);
      expect(created.status, JSON.stringify(created.body)).toBe(201);
      const read = await fhir(s.baseUrl, 'GET', `${resource.resourceType}/${created.body.id}`);
      expect(read.body).toMatchObject(resource);
    }
  });
});
