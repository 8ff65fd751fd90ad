/** Batch Bundles (R4 http.html#transaction, #brules): independent entries, each in its own transaction. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const batch = (entry: unknown[]) => ({ resourceType: 'Bundle', type: 'batch', entry });

describeEachEngine('batch', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_MAX_BUNDLE_ENTRIES: '10' });
  });
  afterAll(async () => s?.close());

  it('entries are independent: a bad one gets its own error status and outcome while the others succeed', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/b-if', { resourceType: 'Patient', id: 'b-if' });
    const r = await fhir(s.baseUrl, 'POST', '', batch([
      { resource: { resourceType: 'Patient', gender: 'female' }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Patient', gender: 'female', birthDate: 'never' }, request: { method: 'POST', url: 'Patient' } },
      { request: { method: 'GET', url: 'Patient/does-not-exist' } },
      { resource: { resourceType: 'Patient', id: 'b3' }, request: { method: 'PUT', url: 'Patient/b3' } },
      { resource: { resourceType: 'Patient', id: 'b-if', active: true }, request: { method: 'PUT', url: 'Patient/b-if', ifMatch: 'W/"9"' } },
      { request: { method: 'DELETE', url: 'Patient/b3' } },
    ]));
    expect(r.status).toBe(200);
    expect(r.body.type).toBe('batch-response');
    expect(r.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['201', '400', '404', '201', '412', '204']);
    expect(r.body.entry[1].response.outcome.issue[0].expression[0]).toMatch(/^Patient\.birthDate/);
    expect(r.body.entry[2].response.outcome.issue[0].code).toBe('not-found');
    expect(r.body.entry[4].response.outcome.issue[0].details.text).toMatch(/If-Match/);
    const created = r.body.entry[0].response;
    expect(created.location).toMatch(/^Patient\/[0-9a-f-]{36}\/_history\/1$/);
    expect(created.etag).toBe('W/"1"');
    expect((await fhir(s.baseUrl, 'GET', created.location.split('/_history')[0])).body.meta.lastUpdated).toBe(created.lastModified);
    // Entries run in order, each committed on its own: the PUT of b3 happened, then its DELETE.
    expect(r.body.entry[5].response.etag).toBe('W/"2"');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/b3')).status).toBe(410);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/b-if')).body.active).toBeUndefined();
  });

  it('an entry that refers to another entry fails on its own: batch entries may not depend on each other', async () => {
    const r = await fhir(s.baseUrl, 'POST', '', batch([
      { fullUrl: 'urn:uuid:b-pat', resource: { resourceType: 'Patient', gender: 'male' }, request: { method: 'POST', url: 'Patient' } },
      { resource: { resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: 'urn:uuid:b-pat' } }, request: { method: 'POST', url: 'Encounter' } },
    ]));
    expect(r.status).toBe(200);
    expect(r.body.entry[0].response.status).toBe('201 Created');
    expect(r.body.entry[1].response.status).toBe('400');
    expect(r.body.entry[1].response.outcome.issue[0].details.text).toMatch(/another entry of this batch.*transaction/);
  });

  it('answers GET entries with the resource, and writes with the representation only when asked', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/b-read', { resourceType: 'Patient', id: 'b-read', gender: 'unknown' });
    const r = await fhir(s.baseUrl, 'POST', '', batch([
      { request: { method: 'GET', url: 'Patient/b-read' } },
      { resource: { resourceType: 'Patient', id: 'b-rep', gender: 'male' }, request: { method: 'PUT', url: 'Patient/b-rep' } },
    ]), { prefer: 'return=representation' });
    expect(r.body.entry[0].resource.gender).toBe('unknown');
    expect(r.body.entry[0].response.etag).toBe('W/"1"');
    expect(r.body.entry[1].resource.gender).toBe('male');
  });

  it('refuses a batch over the entry limit with 413, and a Bundle that is not batch or transaction with 400', async () => {
    const entries = Array.from({ length: 11 }, () => ({ resource: { resourceType: 'Patient' }, request: { method: 'POST', url: 'Patient' } }));
    expect((await fhir(s.baseUrl, 'POST', '', batch(entries))).status).toBe(413);
    expect((await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'searchset' })).status).toBe(400);
    expect((await fhir(s.baseUrl, 'POST', '', batch([{ resource: { resourceType: 'Patient' } }]))).status).toBe(400);
  });
});
