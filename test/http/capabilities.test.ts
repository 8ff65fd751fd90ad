/** /metadata states what the server really implements (R4 http.html#capabilities). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import fs from 'node:fs';
import path from 'node:path';
import { loadDefinitions } from '../../src/validation/definitions.js';
import { typesWithoutEndpoint } from '../../src/repo/rest-types.js';

const ROOT = path.resolve(import.meta.dirname, '../..');

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
    expect(rest.resource.map((x: any) => x.type).sort()).toEqual(loadDefinitions().resourceTypes.filter((t) => !typesWithoutEndpoint().has(t)).sort());
    const codes = (x: any) => x.interaction.map((i: any) => i.code).sort().join(',');
    // Every type has Patient's interactions but AuditEvent, the audit trail: read and searched, never written.
    expect(new Set(rest.resource.filter((x: any) => x.type !== 'AuditEvent').map(codes))).toEqual(new Set([codes(patient)]));
    const audit = rest.resource.find((x: any) => x.type === 'AuditEvent');
    expect(codes(audit)).toBe('history-instance,read,search-type,vread');
    expect(audit).toMatchObject({ updateCreate: false, conditionalCreate: false, searchInclude: [], searchRevInclude: [] });
    expect(rest.resource.flatMap((x: any) => [...(x.searchInclude ?? []), ...(x.searchRevInclude ?? [])]).filter((v: string) => v.startsWith('AuditEvent:'))).toEqual([]);
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

/** Every claim of /metadata proved against the server (issue 25 item 6). */
describeEachEngine('capabilities tell the truth', (engine) => {
  let s: TestServer;
  let rest: any;
  let statement: any;
  const byType = (type: string) => rest.resource.find((x: any) => x.type === type);
  beforeAll(async () => {
    s = await startTestServer(engine);
    statement = (await fhir(s.baseUrl, 'GET', 'metadata')).body;
    rest = statement.rest[0];
    const bundle = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/session-complete.json'), 'utf8'));
    const posted = await fhir(s.baseUrl, 'POST', '', bundle);
    expect(posted.status, posted.text).toBe(200);
  });
  afterAll(async () => s?.close());

  it('conditionalRead full-support: If-None-Match and If-Modified-Since answer 304 while the version is current, 200 after a change', async () => {
    expect(byType('Goal').conditionalRead).toBe('full-support');
    const put = await fhir(s.baseUrl, 'PUT', 'Goal/cr', { resourceType: 'Goal', id: 'cr', lifecycleStatus: 'active', description: { text: 'walk' }, subject: { reference: 'Patient/p' } });
    const etag = put.headers.get('etag')!;
    const lastModified = put.headers.get('last-modified')!;
    expect((await fhir(s.baseUrl, 'GET', 'Goal/cr', undefined, { 'if-none-match': etag })).status).toBe(304);
    expect((await fhir(s.baseUrl, 'GET', 'Goal/cr', undefined, { 'if-modified-since': lastModified })).status).toBe(304);
    expect((await fhir(s.baseUrl, 'GET', 'Goal/cr', undefined, { 'if-modified-since': new Date(Date.parse(lastModified) - 5000).toUTCString() })).status).toBe(200);
    await new Promise((r) => setTimeout(r, 1100)); // Last-Modified has whole seconds: the next version must be a second later
    await fhir(s.baseUrl, 'PUT', 'Goal/cr', { resourceType: 'Goal', id: 'cr', lifecycleStatus: 'completed', description: { text: 'walk' }, subject: { reference: 'Patient/p' } });
    expect((await fhir(s.baseUrl, 'GET', 'Goal/cr', undefined, { 'if-none-match': etag })).status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', 'Goal/cr', undefined, { 'if-modified-since': lastModified })).status).toBe(200);
  });

  it('every searchInclude and searchRevInclude value listed is taken, and one of each returns the resources it names', async () => {
    for (const type of ['Procedure', 'Claim', 'Patient']) {
      const r = byType(type);
      expect(r.searchInclude.length, type).toBeGreaterThan(0);
      for (const value of [...r.searchInclude.map((v: string) => `_include=${v}`), ...r.searchRevInclude.map((v: string) => `_revinclude=${v}`)]) {
        const reply = await fhir(s.baseUrl, 'GET', `${type}?_count=1&${encodeURI(value)}`);
        expect(reply.status, `${type}?${value}: ${reply.text.slice(0, 300)}`).toBe(200);
      }
    }
    expect(byType('Procedure').searchInclude).toContain('Procedure:subject');
    const included = await fhir(s.baseUrl, 'GET', 'Procedure?_include=Procedure:subject');
    expect(included.body.entry.some((e: any) => e.search.mode === 'include' && e.resource.resourceType === 'Patient')).toBe(true);
    expect(byType('Patient').searchRevInclude).toContain('Procedure:subject');
    const revincluded = await fhir(s.baseUrl, 'GET', 'Patient?_revinclude=Procedure:subject');
    expect(revincluded.body.entry.some((e: any) => e.search.mode === 'include' && e.resource.resourceType === 'Procedure')).toBe(true);
  });

  it('_sort, chaining and _has, stated in rest.documentation, work', async () => {
    expect(rest.documentation).toMatch(/_sort/);
    expect(rest.documentation).toMatch(/chaining/);
    expect(rest.documentation).toMatch(/_has/);
    for (const family of ['Alpha', 'Beta', 'Gamma']) await fhir(s.baseUrl, 'POST', 'Practitioner', { resourceType: 'Practitioner', name: [{ family }] });
    const asc = await fhir(s.baseUrl, 'GET', 'Practitioner?family=Alpha,Beta,Gamma&_sort=family');
    const desc = await fhir(s.baseUrl, 'GET', 'Practitioner?family=Alpha,Beta,Gamma&_sort=-family');
    const families = (b: any) => b.entry.map((e: any) => e.resource.name[0].family);
    expect(families(asc.body)).toEqual(['Alpha', 'Beta', 'Gamma']);
    expect(families(desc.body)).toEqual(['Gamma', 'Beta', 'Alpha']);
    const patient = (await fhir(s.baseUrl, 'GET', 'Patient')).body.entry[0].resource;
    const family = patient.name[0].family;
    const chained = await fhir(s.baseUrl, 'GET', `Procedure?subject:Patient.family=${encodeURIComponent(family)}`);
    expect(chained.body.total).toBeGreaterThan(0);
    expect((await fhir(s.baseUrl, 'GET', 'Procedure?subject:Patient.family=NoSuchFamily')).body.total).toBe(0);
    const has = await fhir(s.baseUrl, 'GET', 'Patient?_has:Procedure:subject:code=97116');
    expect(has.body.entry.map((e: any) => e.resource.id)).toEqual([patient.id]);
    expect((await fhir(s.baseUrl, 'GET', 'Patient?_has:Procedure:subject:code=00000')).body.total).toBe(0);
  });

  it('system operations are under rest.operation and answer; every OperationDefinition named is readable at OperationDefinition/[id]', async () => {
    expect(rest.operation.map((o: any) => o.name)).toContain('bots');
    expect((await fhir(s.baseUrl, 'GET', '$bots')).status).toBe(200);
    const definitions = new Set<string>([...rest.operation, ...rest.resource.flatMap((r: any) => r.operation ?? [])].map((o: any) => o.definition));
    expect(definitions.size).toBeGreaterThan(8);
    for (const url of definitions) {
      const read = await fhir(s.baseUrl, 'GET', `OperationDefinition/${url.slice(url.lastIndexOf('/') + 1)}`);
      expect(read.status, `${url}: ${read.text.slice(0, 200)}`).toBe(200);
      expect(read.body.url, url).toBe(url);
      expect(read.body.resourceType).toBe('OperationDefinition');
    }
  });

  it('the Stride profiles are in supportedProfile, each enforced by $validate, and the guide named in implementationGuide lists them', async () => {
    const index = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/index.json'), 'utf8'));
    const profiles = index.resources.filter((r: any) => r.kind === 'resource').map((r: any) => r.url).sort();
    const claimed = rest.resource.flatMap((r: any) => r.supportedProfile ?? []).sort();
    expect(claimed).toEqual(profiles);
    const invalid = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/invalid-index.json'), 'utf8')).files;
    for (const url of claimed) {
      const example = invalid.find((f: any) => f.profile === url);
      expect(example, `an invalid example of ${url}`).toBeDefined();
      const resource = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples', example.file), 'utf8'));
      delete resource.meta;
      const checked = await fhir(s.baseUrl, 'POST', `${resource.resourceType}/$validate?profile=${encodeURIComponent(url)}`, resource);
      expect(checked.body.issue.some((i: any) => i.severity === 'error'), `${url}: ${checked.text.slice(0, 300)}`).toBe(true);
    }
    expect(statement.implementationGuide).toHaveLength(1);
    const guide = await fhir(s.baseUrl, 'GET', `ImplementationGuide/${statement.implementationGuide[0].split('/').pop()}`);
    expect(guide.status).toBe(200);
    expect(guide.body.url).toBe(statement.implementationGuide[0]);
    const listed = guide.body.definition.resource.map((r: any) => r.reference.display);
    for (const url of profiles) expect(listed).toContain(url);
    const validated = await fhir(s.baseUrl, 'POST', 'ImplementationGuide/$validate', guide.body);
    expect(validated.body.issue.filter((i: any) => i.severity === 'error'), validated.text).toEqual([]);
  });

  it('types without a REST endpoint (Parameters, OperationOutcome) are not listed and are refused on create and update', async () => {
    const types = rest.resource.map((r: any) => r.type);
    expect(types).not.toContain('Parameters');
    expect(types).not.toContain('OperationOutcome');
    const before = (await fhir(s.baseUrl, 'GET', '_history?_count=0')).body.total;
    const parameters = { resourceType: 'Parameters', parameter: [{ name: 'x', valueString: 'y' }] };
    const outcome = { resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: 'invalid' }] };
    const attempts: Array<[string, string, unknown]> = [
      ['POST', 'Parameters', parameters], ['PUT', 'Parameters/p', { ...parameters, id: 'p' }], ['POST', 'OperationOutcome', outcome], ['PUT', 'OperationOutcome/o', { ...outcome, id: 'o' }],
      ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'POST', url: 'Parameters' }, resource: parameters }] }],
      ['POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [{ request: { method: 'PUT', url: 'OperationOutcome/o' }, resource: { ...outcome, id: 'o' } }] }],
    ];
    for (const [method, url, body] of attempts) {
      const r = await fhir(s.baseUrl, method, url, body);
      expect(r.status, `${method} ${url}: ${r.text}`).toBe(400);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(r.body.issue)).toMatch(/no REST endpoint/);
    }
    const batch = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'POST', url: 'Parameters' }, resource: parameters }] });
    expect(batch.body.entry[0].response.status).toBe('400');
    expect((await fhir(s.baseUrl, 'GET', '_history?_count=0')).body.total).toBe(before);
    // Still what operations take and return: $validate of a Parameters resource answers.
    expect((await fhir(s.baseUrl, 'POST', 'Parameters/$validate', parameters)).status).toBe(200);
  });
});
