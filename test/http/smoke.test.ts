import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

describeEachEngine('smoke: create then read over HTTP', (engine) => {
  let server: TestServer;
  beforeAll(async () => {
    server = await startTestServer(engine);
  });
  afterAll(async () => server?.close());

  it('reads back what it created, with the version ETag', async () => {
    const created = await fhir(server.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Okafor' }] });
    expect(created.status).toBe(201);
    const read = await fhir(server.baseUrl, 'GET', `Patient/${created.body.id}`);
    expect(read.status).toBe(200);
    expect(read.headers.get('etag')).toBe('W/"1"');
    expect(read.body.name[0].family).toBe('Okafor');
  });
});
