/** /metadata states what the server really implements (R4 http.html#capabilities). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { loadDefinitions } from '../../src/validation/definitions.js';

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
    expect(r.body.patchFormat).toEqual(['application/json-patch+json']);
    expect(rest.resource.map((x: any) => x.type).sort()).toEqual([...loadDefinitions().resourceTypes].sort());
    const codes = (x: any) => x.interaction.map((i: any) => i.code).sort().join(',');
    expect(new Set(rest.resource.map(codes))).toEqual(new Set([codes(patient)]));
    expect(patient.operation).toEqual([
      { name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' },
      { name: 'run-bots', definition: 'http://stride-fhir.org/fhir/OperationDefinition/run-bots' },
      { name: 'export', definition: 'http://stride-fhir.org/fhir/OperationDefinition/patient-export' },
      { name: 'outcomes', definition: 'http://stride-fhir.org/fhir/OperationDefinition/Patient-outcomes' },
      { name: 'balance', definition: 'http://stride-fhir.org/fhir/OperationDefinition/Patient-balance' },
      { name: 'invoice', definition: 'http://stride-fhir.org/fhir/OperationDefinition/invoice' },
    ]);
  });

  it('each operation it lists answers on a resource type', async () => {
    const rest = (await fhir(s.baseUrl, 'GET', 'metadata')).body.rest[0];
    const goal = rest.resource.find((x: any) => x.type === 'Goal');
    const put = await fhir(s.baseUrl, 'PUT', 'Goal/op', { resourceType: 'Goal', id: 'op', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p' } });
    expect(put.status).toBeLessThan(300);
    for (const { name } of goal.operation) {
      const r = await fhir(s.baseUrl, 'POST', `Goal/op/$${name}`, name === 'validate' ? put.body : {});
      expect(r.status, `$${name}: ${r.text}`).toBe(200);
      expect(r.body.resourceType).toBe('OperationOutcome');
    }
  });

  it('every interaction it lists answers (no 404 or 405 behind a claimed capability)', async () => {
    const put = await fhir(s.baseUrl, 'PUT', 'Goal/cap', { resourceType: 'Goal', id: 'cap', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p' } });
    const calls: Array<[string, string, unknown?, Record<string, string>?]> = [
      ['GET', 'Goal/cap'], ['GET', 'Goal/cap/_history/1'], ['GET', 'Goal/cap/_history'], ['GET', 'Goal/_history'], ['GET', 'Goal?lifecycle-status=active'],
      ['PATCH', 'Goal/cap', [{ op: 'add', path: '/priority', value: { text: 'high' } }], { 'content-type': 'application/json-patch+json' }],
      ['POST', 'Goal', { ...put.body, id: undefined, meta: undefined }], ['GET', '_history'],
      ['POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Goal/cap' } }] }],
      ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [] }], ['DELETE', 'Goal/cap'],
    ];
    for (const [method, path, body, headers] of calls) {
      const r = await fhir(s.baseUrl, method, path, body, headers);
      expect(r.status, `${method} ${path}: ${r.text}`).toBeLessThan(300);
    }
  });
});
