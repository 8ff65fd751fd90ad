/**
 * Materialised views (issue 22 point 3, Show): a stored view materialised as a table stays equal to $run of the same
 * view through 1,000 random creates, updates and deletes (seeded, over HTTP, singly and in transaction Bundles, some
 * of which fail and roll back), on both engines. The table is read with plain SQL; $run's rows come over HTTP.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { prng } from '../support/random.js';
import { runRows, tableRows, type ColumnSpec } from './materialized-support.js';

const COLUMNS: ColumnSpec[] = [
  { name: 'id', type: 'id' },
  { name: 'patient_id', type: 'id' },
  { name: 'status', type: 'code' },
  { name: 'effective', type: 'dateTime' },
  { name: 'day', type: 'date' },
  { name: 'value', type: 'decimal' },
  { name: 'final', type: 'boolean' },
  { name: 'parts', type: 'integer' },
  { name: 'codes', type: 'code', collection: true },
  { name: 'part_code', type: 'string' },
  { name: 'part_value', type: 'decimal' },
];

export const VIEW = {
  resourceType: 'ViewDefinition',
  id: 'obs-parts',
  name: 'obs_parts',
  status: 'active',
  resource: 'Observation',
  where: [{ path: "status != 'cancelled'" }],
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'patient_id', path: 'subject.getReferenceKey(Patient)', type: 'id' },
        { name: 'status', path: 'status', type: 'code' },
        { name: 'effective', path: 'effective.ofType(dateTime)', type: 'dateTime' },
        { name: 'day', path: 'effective.ofType(dateTime).toString().substring(0, 10)', type: 'date' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'final', path: "status = 'final'", type: 'boolean' },
        { name: 'parts', path: 'component.count()', type: 'integer' },
        { name: 'codes', path: 'code.coding.code', type: 'code', collection: true },
      ],
    },
    {
      forEachOrNull: 'component',
      column: [
        { name: 'part_code', path: 'code.text', type: 'string' },
        { name: 'part_value', path: 'value.ofType(Quantity).value', type: 'decimal' },
      ],
    },
  ],
};

const STATUSES = ['final', 'amended', 'preliminary', 'cancelled'];

function observation(random: () => number, id?: string): Record<string, unknown> {
  const pick = <T>(list: T[]): T => list[Math.floor(random() * list.length)];
  const parts = Math.floor(random() * 4);
  const day = 1 + Math.floor(random() * 28);
  return {
    resourceType: 'Observation',
    ...(id ? { id } : {}),
    status: pick(STATUSES),
    code: { coding: [{ system: 'http://loinc.org', code: pick(['83172-7', '64098-7', '89423-8']) }, ...(random() < 0.4 ? [{ system: 'http://example.org/local', code: `L${Math.floor(random() * 9)}` }] : [])] },
    subject: { reference: `Patient/p${Math.floor(random() * 5)}` },
    effectiveDateTime: `2026-0${1 + Math.floor(random() * 9)}-${String(day).padStart(2, '0')}T${String(Math.floor(random() * 24)).padStart(2, '0')}:15:00${pick(['Z', '+02:00', '-05:00'])}`,
    ...(random() < 0.8 ? { valueQuantity: { value: Math.round(random() * 2000) / 100, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' } } : {}),
    ...(parts > 0
      ? { component: Array.from({ length: parts }, (_, i) => ({ code: { text: `part ${i}` }, valueQuantity: { value: Math.round(random() * 100) / 10, unit: 's', system: 'http://unitsofmeasure.org', code: 's' } })) }
      : {}),
  };
}

describeEachEngine('Materialised views stay equal to $run', (engine) => {
  let s: TestServer;
  const table = 'obs_parts';
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: '' });
    for (let i = 0; i < 5; i++) expect((await fhir(s.baseUrl, 'PUT', `Patient/p${i}`, { resourceType: 'Patient', id: `p${i}` })).status).toBe(201);
  });
  afterAll(async () => s?.close());

  async function expectEqual(): Promise<number> {
    const run = await fhir<Array<Record<string, unknown>>>(s.baseUrl, 'GET', 'ViewDefinition/obs-parts/$run?_format=json');
    expect(run.status).toBe(200);
    const expected = runRows(COLUMNS, run.body, 'id');
    expect(await tableRows(s.stride, table, COLUMNS)).toEqual(expected);
    return run.body.length;
  }

  it('fills the table from the stored resources, then follows 1,000 random writes', { timeout: 240_000 }, async () => {
    const random = prng(22_003);
    let checked = 0;
    const live: string[] = [];
    for (let i = 0; i < 30; i++) {
      const res = await fhir(s.baseUrl, 'POST', 'Observation', observation(random));
      live.push(res.body.id);
    }
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/obs-parts', VIEW)).status).toBe(201);
    const made = await fhir(s.baseUrl, 'POST', 'ViewDefinition/obs-parts/$materialize', { resourceType: 'Parameters' });
    expect(made.status).toBe(200);
    const out = new Map<string, unknown>(made.body.parameter.map((p: { name: string; valueString?: string; valueInteger?: number }) => [p.name, p.valueString ?? p.valueInteger]));
    expect(out.get('table')).toBe(engine.name === 'postgres' ? 'views.obs_parts' : 'view_obs_parts');
    expect(out.get('resources')).toBe(30);
    expect(out.get('rows')).toBe(await expectEqual());

    let ops = 0;
    let failedBundles = 0;
    /** One random write of an Observation: a create, an update or a delete (ids in `taken` are left alone). */
    const pickOp = (taken: Set<string>): { kind: 'create' | 'update' | 'delete'; id?: string } => {
      const r = random();
      const free = live.filter((id) => !taken.has(id));
      if (r < 0.4 || free.length < 5) return { kind: 'create' };
      const id = free[Math.floor(random() * free.length)];
      taken.add(id);
      return { kind: r < 0.8 ? 'update' : 'delete', id };
    };
    while (ops < 1000) {
      if (random() < 0.5) {
        // One write on its own.
        const op = pickOp(new Set());
        if (op.kind === 'create') {
          const res = await fhir(s.baseUrl, 'POST', 'Observation', observation(random));
          expect(res.status).toBe(201);
          live.push(res.body.id);
        } else if (op.kind === 'update') {
          expect((await fhir(s.baseUrl, 'PUT', `Observation/${op.id}`, observation(random, op.id))).status).toBe(200);
        } else {
          expect((await fhir(s.baseUrl, 'DELETE', `Observation/${op.id}`)).status).toBe(204);
          live.splice(live.indexOf(op.id as string), 1);
        }
        ops++;
      } else {
        // A transaction of 2-8 writes; one in five carries an invalid entry and rolls back whole.
        const taken = new Set<string>();
        const batch = Array.from({ length: 2 + Math.floor(random() * 7) }, () => pickOp(taken));
        const bad = random() < 0.2;
        const entry = batch.map((op) =>
          op.kind === 'create'
            ? { resource: observation(random), request: { method: 'POST', url: 'Observation' } }
            : op.kind === 'update'
              ? { resource: observation(random, op.id), request: { method: 'PUT', url: `Observation/${op.id}` } }
              : { request: { method: 'DELETE', url: `Observation/${op.id}` } },
        );
        if (bad) entry.splice(Math.floor(random() * entry.length), 0, { resource: { resourceType: 'Observation', status: 'no-such-status', code: { text: 'x' } } as never, request: { method: 'POST', url: 'Observation' } });
        const res = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry });
        if (bad) {
          expect(res.status).toBe(400);
          failedBundles++;
          continue;
        }
        expect(res.status).toBe(200);
        batch.forEach((op, i) => {
          if (op.kind === 'create') live.push(res.body.entry[i].response.location.split('/')[1]);
          if (op.kind === 'delete') live.splice(live.indexOf(op.id as string), 1);
        });
        ops += batch.length;
      }
      if (ops >= checked + 250) {
        checked = ops;
        await expectEqual();
      }
    }
    expect(failedBundles).toBeGreaterThan(0);
    const rows = await expectEqual();
    expect(rows).toBeGreaterThan(live.length / 2);
  });

  it('rebuilds the table when the view changes, and drops it when the view is deleted', async () => {
    const changed = { ...VIEW, select: [{ column: [{ name: 'id', path: 'getResourceKey()', type: 'id' }, { name: 'status', path: 'status', type: 'code' }] }] };
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/obs-parts', changed)).status).toBe(200);
    const cols: ColumnSpec[] = [{ name: 'id', type: 'id' }, { name: 'status', type: 'code' }];
    const run = await fhir<Array<Record<string, unknown>>>(s.baseUrl, 'GET', 'ViewDefinition/obs-parts/$run?_format=json');
    expect(await tableRows(s.stride, table, cols)).toEqual(runRows(cols, run.body, 'id'));
    expect((await fhir(s.baseUrl, 'DELETE', 'ViewDefinition/obs-parts')).status).toBe(204);
    await expect(tableRows(s.stride, table, cols)).rejects.toThrow(/obs_parts/);
  });

  it('answers what a user got wrong as an OperationOutcome', async () => {
    const missing = await fhir(s.baseUrl, 'POST', 'ViewDefinition/nope/$materialize', { resourceType: 'Parameters' });
    expect(missing.status).toBe(404);
    expect(missing.body.resourceType).toBe('OperationOutcome');
    const get = await fhir(s.baseUrl, 'GET', 'ViewDefinition/nope/$materialize');
    expect(get.status).toBe(405);
    const one = { ...VIEW, id: 'first', name: 'same_name' };
    const two = { ...VIEW, id: 'second', name: 'same_name' };
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/first', one)).status).toBe(201);
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/second', two)).status).toBe(201);
    expect((await fhir(s.baseUrl, 'POST', 'ViewDefinition/first/$materialize', { resourceType: 'Parameters' })).status).toBe(200);
    const clash = await fhir(s.baseUrl, 'POST', 'ViewDefinition/second/$materialize', { resourceType: 'Parameters' });
    expect(clash.status).toBe(409);
    expect(clash.body.issue[0].details.text).toMatch(/ViewDefinition\/first is already materialised as table same_name/);
    const dropped = await fhir(s.baseUrl, 'POST', 'ViewDefinition/first/$materialize?drop=true');
    expect(dropped.body.parameter[0]).toEqual({ name: 'dropped', valueBoolean: true });
    expect((await fhir(s.baseUrl, 'POST', 'ViewDefinition/second/$materialize', { resourceType: 'Parameters' })).status).toBe(200);
  });

  it('lists $materialize in /metadata with a readable OperationDefinition', async () => {
    const meta = await fhir(s.baseUrl, 'GET', 'metadata');
    const ops = meta.body.rest[0].operation as Array<{ name: string; definition: string }>;
    const op = ops.find((o) => o.name === 'materialize');
    expect(op?.definition).toBe('http://stride-fhir.org/fhir/OperationDefinition/ViewDefinition-materialize');
    const def = await fhir(s.baseUrl, 'GET', 'OperationDefinition/ViewDefinition-materialize');
    expect(def.status).toBe(200);
    expect(def.body.code).toBe('materialize');
  });
});
