/**
 * $run?_format=parquet gives a file DuckDB reads as it is (issue 22, Show): the same rows as the JSON answer, each
 * column of the Parquet type its declared FHIR type maps to (formats/parquet.ts), a collection column a list.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const VIEW = {
  resourceType: 'ViewDefinition',
  id: 'obs-typed',
  name: 'observation_typed',
  status: 'active',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'effective', path: 'effective.ofType(dateTime)', type: 'dateTime' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'parts', path: 'component.count()', type: 'integer' },
        { name: 'final', path: "status = 'final'", type: 'boolean' },
        { name: 'codes', path: 'code.coding.code', type: 'code', collection: true },
        { name: 'day', path: 'effective.ofType(dateTime).toString().substring(0, 10)', type: 'date' },
      ],
    },
  ],
};

function observation(i: number): Record<string, unknown> {
  return {
    resourceType: 'Observation',
    id: `o${i}`,
    status: i % 3 === 0 ? 'amended' : 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '41909-3' }, ...(i % 2 ? [{ system: 'http://example.org/local', code: `L${i}` }] : [])] },
    effectiveDateTime: `2026-03-${String((i % 28) + 1).padStart(2, '0')}T1${i % 10}:15:00Z`,
    ...(i % 5 === 4 ? {} : { valueQuantity: { value: 0.5 + i / 100, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' } }),
    ...(i % 4 === 0 ? { component: [{ code: { text: 'a' }, valueString: 'x' }, { code: { text: 'b' }, valueString: 'y' }] } : {}),
  };
}

describeEachEngine('ViewDefinition/$run as Parquet, read back by DuckDB', (engine) => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: '' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-parquet-'));
    const entry = Array.from({ length: 40 }, (_, i) => ({ resource: observation(i), request: { method: 'PUT', url: `Observation/o${i}` } }));
    expect((await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry })).status).toBe(200);
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/obs-typed', VIEW)).status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('has the JSON answer rows, with the declared types', async () => {
    const json = await fhir(s.baseUrl, 'GET', 'ViewDefinition/obs-typed/$run?_format=json');
    expect(json.status).toBe(200);
    const res = await fetch(`${s.baseUrl}/ViewDefinition/obs-typed/$run?_format=parquet`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/vnd.apache.parquet');
    const bytes = Buffer.from(await res.arrayBuffer());
    expect(bytes.subarray(0, 4).toString()).toBe('PAR1');
    const file = path.join(dir, 'obs.parquet');
    fs.writeFileSync(file, bytes);

    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const types = (await conn.runAndReadAll(`DESCRIBE SELECT * FROM read_parquet('${file}')`)).getRowObjectsJson();
    expect(Object.fromEntries(types.map((t) => [t.column_name, t.column_type]))).toEqual({
      id: 'VARCHAR',
      effective: 'TIMESTAMP',
      value: 'DOUBLE',
      parts: 'INTEGER',
      final: 'BOOLEAN',
      codes: 'VARCHAR[]',
      day: 'DATE',
    });
    const read = await conn.runAndReadAll(
      `SELECT id, epoch_ms(effective) AS effective, value, parts, final, codes, strftime(day, '%Y-%m-%d') AS day FROM read_parquet('${file}') ORDER BY id`,
    );
    const fromParquet = read.getRowObjectsJson().map((r) => ({ ...r, effective: Number(r.effective) }));
    const fromJson = (json.body as Array<Record<string, unknown>>)
      .map((r): Record<string, unknown> => ({ ...r, effective: Date.parse(r.effective as string) }))
      .sort((a, b) => ((a.id as string) < (b.id as string) ? -1 : 1));
    expect(fromParquet).toHaveLength(40);
    expect(fromParquet).toEqual(fromJson);
    conn.closeSync();
  });

  it('refuses, as an OperationOutcome, a value its column type cannot hold', async () => {
    const view = { ...VIEW, id: undefined, select: [{ column: [{ name: 'id', path: 'id', type: 'integer' }] }] };
    const res = await fhir(s.baseUrl, 'POST', 'ViewDefinition/$run?_format=parquet', { resourceType: 'Parameters', parameter: [{ name: 'viewResource', resource: view }] });
    expect(res.status).toBe(422);
    expect(res.body.issue[0].details.text).toMatch(/declared integer/);
  });
});
