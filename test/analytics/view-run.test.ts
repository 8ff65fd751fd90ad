/**
 * ViewDefinition as a stored resource and $run over the stored resources, through HTTP on both engines: the stored
 * view's validation, every parameter ($run's patient, group, _since, _limit, header, the formats), and the
 * OperationOutcomes a client gets for what it got wrong.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { storePages } from '../../src/analytics/views/source.js';

const OBS_VIEW = {
  resourceType: 'ViewDefinition',
  name: 'observation_flat',
  status: 'active',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'patient_id', path: 'subject.getReferenceKey(Patient)', type: 'id' },
        { name: 'code', path: "code.coding.where(system = 'http://loinc.org').code.first()", type: 'code' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'note', path: 'note.text.first()', type: 'string' },
      ],
    },
  ],
};

function observation(id: string, patient: string, value: number, note?: string): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id,
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '41909-3', display: 'Gait speed' }] },
    subject: { reference: `Patient/${patient}` },
    effectiveDateTime: '2026-03-02T10:00:00Z',
    valueQuantity: { value, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' },
    ...(note ? { note: [{ text: note }] } : {}),
  };
}

async function ndjson(s: TestServer, path: string, body?: unknown): Promise<Array<Record<string, unknown>>> {
  const res = await fhir(s.baseUrl, body === undefined ? 'GET' : 'POST', path, body);
  expect(res.status, res.text).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/x-ndjson/);
  return res.text
    .split('\n')
    .filter(Boolean)
    .map((line) => JSON.parse(line) as Record<string, unknown>);
}

const ids = (rows: Array<Record<string, unknown>>): string[] => rows.map((r) => String(r.id)).sort();

describeEachEngine('ViewDefinition/$run on stored resources', (engine) => {
  let s: TestServer;
  let beforeUpdate: string;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: '' });
    for (const p of ['p1', 'p2', 'p3']) expect((await fhir(s.baseUrl, 'PUT', `Patient/${p}`, { resourceType: 'Patient', id: p, active: true })).status).toBe(201);
    const obs = [observation('o1', 'p1', 0.8, 'walked, with "cane"'), observation('o2', 'p1', 0.9), observation('o3', 'p2', 1.1), observation('o4', 'p3', 0.6)];
    for (const o of obs) expect((await fhir(s.baseUrl, 'PUT', `Observation/${o.id}`, o)).status).toBe(201);
    const group = { resourceType: 'Group', id: 'g1', type: 'person', actual: true, member: [{ entity: { reference: 'Patient/p1' } }, { entity: { reference: 'Patient/p2' } }] };
    expect((await fhir(s.baseUrl, 'PUT', 'Group/g1', group)).status).toBe(201);
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/obs-flat', { ...OBS_VIEW, id: 'obs-flat' })).status).toBe(201);
    await new Promise((r) => setTimeout(r, 5));
    beforeUpdate = new Date().toISOString();
    await new Promise((r) => setTimeout(r, 5));
    expect((await fhir(s.baseUrl, 'PUT', 'Observation/o4', observation('o4', 'p3', 0.7))).status).toBe(200);
  });
  afterAll(async () => s?.close());

  it('stores a ViewDefinition like any resource: read, versions, and it runs by id', async () => {
    const read = await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-flat');
    expect(read.status).toBe(200);
    expect(read.body.name).toBe('observation_flat');
    expect(read.headers.get('etag')).toBe('W/"1"');
    const search = await fhir(s.baseUrl, 'GET', 'ViewDefinition?_id=obs-flat');
    expect(search.status).toBe(200);
    expect(search.body.entry.map((e: { resource: { id: string } }) => e.resource.id)).toEqual(['obs-flat']);
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/gone', { ...OBS_VIEW, id: 'gone' })).status).toBe(201);
    expect((await fhir(s.baseUrl, 'DELETE', 'ViewDefinition/gone')).status).toBe(204);
    expect((await fhir(s.baseUrl, 'GET', 'ViewDefinition/gone/$run')).status).toBe(410);
    expect((await fhir(s.baseUrl, 'GET', 'ViewDefinition/gone/_history')).body.total).toBe(2);
    const rows = await ndjson(s, 'ViewDefinition/obs-flat/$run');
    expect(rows).toHaveLength(4);
    expect(rows.find((r) => r.id === 'o1')).toEqual({ id: 'o1', patient_id: 'p1', code: '41909-3', value: 0.8, note: 'walked, with "cane"' });
  });

  it('refuses an invalid ViewDefinition with an OperationOutcome naming each problem, and stores nothing', async () => {
    const bad = {
      resourceType: 'ViewDefinition',
      id: 'bad',
      status: 'active',
      resource: 'Observation',
      colour: 'red',
      select: [{ column: [{ name: '1st', path: 'id' }, { name: 'v', path: 'value.where(' }] }],
    };
    const res = await fhir(s.baseUrl, 'PUT', 'ViewDefinition/bad', bad);
    expect(res.status).toBe(400);
    const expressions = (res.body.issue as Array<{ expression: string[] }>).map((i) => i.expression[0]);
    expect(expressions).toEqual(expect.arrayContaining(['ViewDefinition.colour', 'ViewDefinition.select[0].column[0].name']));
    const fhirpathBad = await fhir(s.baseUrl, 'PUT', 'ViewDefinition/bad', { ...bad, colour: undefined, select: [{ column: [{ name: 'v', path: 'value.where(' }] }] });
    expect(fhirpathBad.status).toBe(400);
    expect(fhirpathBad.body.issue[0].expression).toEqual(['ViewDefinition.select[0].column[0].path']);
    expect((await fhir(s.baseUrl, 'GET', 'ViewDefinition/bad')).status).toBe(404);
    const noStatus = await fhir(s.baseUrl, 'POST', 'ViewDefinition', { ...OBS_VIEW, status: undefined });
    expect(noStatus.status).toBe(400);
    expect(noStatus.body.issue[0].expression).toEqual(['ViewDefinition.status']);
  });

  it('runs a view named by viewReference, and one given inline, the same', async () => {
    const byReference = await ndjson(s, 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewReference', valueReference: { reference: 'ViewDefinition/obs-flat' } }] });
    const inline = await ndjson(s, 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: OBS_VIEW }] });
    expect(ids(byReference)).toEqual(['o1', 'o2', 'o3', 'o4']);
    expect(inline).toEqual(byReference);
  });

  it('patient and group keep the rows of those patients compartments; a Patient view keeps those patients', async () => {
    expect(ids(await ndjson(s, 'ViewDefinition/obs-flat/$run?patient=Patient/p1'))).toEqual(['o1', 'o2']);
    expect(ids(await ndjson(s, 'ViewDefinition/obs-flat/$run?group=Group/g1'))).toEqual(['o1', 'o2', 'o3']);
    expect(ids(await ndjson(s, 'ViewDefinition/obs-flat/$run?patient=p3&group=g1'))).toEqual(['o1', 'o2', 'o3', 'o4']);
    const patients = { resourceType: 'ViewDefinition', status: 'active', resource: 'Patient', select: [{ column: [{ name: 'id', path: 'id' }] }] };
    const rows = await ndjson(s, 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: patients }, { name: 'patient', valueReference: { reference: 'Patient/p2' } }] });
    expect(ids(rows)).toEqual(['p2']);
    expect((await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-flat/$run?group=Group/nope')).status).toBe(404);
  });

  it('_since keeps resources changed after it; _limit stops after that many rows', async () => {
    const since = await ndjson(s, `ViewDefinition/obs-flat/$run?_since=${encodeURIComponent(beforeUpdate)}`);
    expect(since).toEqual([{ id: 'o4', patient_id: 'p3', code: '41909-3', value: 0.7, note: null }]);
    expect(await ndjson(s, 'ViewDefinition/obs-flat/$run?_limit=3')).toHaveLength(3);
  });

  it('answers json, and csv with and without a header line (RFC 4180 quoting)', async () => {
    const json = await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-flat/$run?_format=json&patient=p1');
    expect(json.headers.get('content-type')).toMatch(/^application\/json/);
    expect(ids(json.body)).toEqual(['o1', 'o2']);
    const csv = await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-flat/$run?_format=csv&patient=p1');
    expect(csv.headers.get('content-type')).toMatch(/^text\/csv/);
    const lines = csv.text.split('\r\n').filter(Boolean).sort();
    expect(lines).toEqual(['id,patient_id,code,value,note', 'o1,p1,41909-3,0.8,"walked, with ""cane"""', 'o2,p1,41909-3,0.9,'].sort());
    const bare = await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-flat/$run?_format=text/csv&header=false&patient=p2');
    expect(bare.text).toBe('o3,p2,41909-3,1.1,\r\n');
  });

  it('says what is wrong with a request as an OperationOutcome', async () => {
    const cases: Array<[string, string, unknown, number, RegExp]> = [
      ['GET', 'ViewDefinition/obs-flat/$run?_format=xml', undefined, 400, /_format/],
      ['GET', 'ViewDefinition/obs-flat/$run?_limit=0', undefined, 400, /_limit/],
      ['GET', 'ViewDefinition/obs-flat/$run?_since=yesterday', undefined, 400, /_since/],
      ['GET', 'ViewDefinition/obs-flat/$run?colour=red', undefined, 400, /has no parameter .*colour/],
      ['GET', 'ViewDefinition/missing/$run', undefined, 404, /missing/],
      ['GET', 'Patient/p1/$run', undefined, 404, /ViewDefinition/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [] }, 400, /exactly one of viewResource/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: OBS_VIEW }, { name: 'viewReference', valueReference: { reference: 'ViewDefinition/obs-flat' } }] }, 400, /exactly one/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: { ...OBS_VIEW, resource: 'Nope' } }] }, 400, /not a FHIR R4 resource type/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: { name: 'viewResource' } }, 400, /must be an array/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [null] }, 400, /object with a name/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: OBS_VIEW }, { name: 'resource', resource: 'Patient' }] }, 400, /must be a FHIR resource/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Patient' }, 400, /Parameters resource/],
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: { resourceType: 'Patient' } }] }, 400, /must be .*ViewDefinition.*got .*Patient/],
      // A view whose column gives several values on the data: the first page is evaluated before the answer starts.
      ['POST', 'ViewDefinition/$run', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: { ...OBS_VIEW, select: [{ column: [{ name: 'c', path: 'code.coding.code | id' }] }] } }] }, 422, /gave 2 values/],
    ];
    for (const [method, path, body, status, text] of cases) {
      const res = await fhir(s.baseUrl, method, path, body);
      expect(res.status, `${method} ${path}: ${res.text}`).toBe(status);
      expect(res.body.resourceType).toBe('OperationOutcome');
      expect(JSON.stringify(res.body.issue)).toMatch(text);
    }
  });

  it('/metadata lists $run with a readable OperationDefinition, and not on R4 types', async () => {
    const rest = (await fhir(s.baseUrl, 'GET', 'metadata')).body.rest[0];
    const run = rest.operation.find((o: { name: string }) => o.name === 'run');
    expect(run.definition).toBe('http://stride-fhir.org/fhir/OperationDefinition/ViewDefinition-run');
    expect(rest.resource.find((r: { type: string }) => r.type === 'Observation').operation.map((o: { name: string }) => o.name)).not.toContain('run');
    const definition = await fhir(s.baseUrl, 'GET', 'OperationDefinition/ViewDefinition-run');
    expect(definition.status).toBe(200);
    expect(definition.body).toMatchObject({ resourceType: 'OperationDefinition', url: run.definition, code: 'run', type: true, instance: true });
    expect(definition.body.parameter.map((p: { name: string }) => p.name)).toEqual(expect.arrayContaining(['viewResource', 'viewReference', '_format', 'patient', 'group', '_since', '_limit', 'resource']));
    expect((await fhir(s.baseUrl, 'GET', 'OperationDefinition/unknown')).status).toBe(404);
  });

  it('reads the store a page at a time, following the search cursor to the end', async () => {
    const pages: number[] = [];
    const seen: string[] = [];
    for await (const page of storePages(s.stride.repo, { resourceType: 'Observation', pageSize: 3 })) {
      pages.push(page.length);
      seen.push(...page.map((r) => r.id as string));
    }
    expect(pages).toEqual([3, 1]);
    expect(seen.sort()).toEqual(['o1', 'o2', 'o3', 'o4']);
  });
});
