/** /metadata states what the server really implements (R4 http.html#capabilities). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

describeEachEngine('capabilities', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('lists every R4 resource type with the interactions the router has, and the system interactions', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'metadata');
    expect(r.status).toBe(200);
    expect(r.body).toMatchObject({ resourceType: 'CapabilityStatement', fhirVersion: '4.0.1', kind: 'instance' });
    const rest = r.body.rest[0];
    expect(rest.resource.length).toBeGreaterThanOrEqual(145);
    const patient = rest.resource.find((x: any) => x.type === 'Patient');
    expect(patient.interaction.map((i: any) => i.code).sort()).toEqual(
      ['create', 'delete', 'history-instance', 'history-type', 'patch', 'read', 'search-type', 'update', 'vread'].sort(),
    );
    expect(patient).toMatchObject({ versioning: 'versioned-update', updateCreate: true, conditionalCreate: true, conditionalUpdate: true, conditionalDelete: 'single' });
    expect(rest.interaction.map((i: any) => i.code).sort()).toEqual(['batch', 'history-system', 'search-system', 'transaction']);
    expect(r.body.format).toContain('application/fhir+json');
  });
});
