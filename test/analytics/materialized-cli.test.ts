/**
 * `stride views sync` from the command line beside a running server (a second process on the same database): the
 * table it builds is kept current by the server's writes from then on, `stride views list` names it, and the view's
 * Parquet file ($run) read back by DuckDB has the same rows as the table. Both engines.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { DuckDBInstance } from '@duckdb/node-api';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { runRows, tableRows, type ColumnSpec } from './materialized-support.js';

const VIEW = {
  resourceType: 'ViewDefinition',
  id: 'gait',
  name: 'gait_speed',
  status: 'active',
  resource: 'Observation',
  select: [
    {
      column: [
        { name: 'id', path: 'getResourceKey()', type: 'id' },
        { name: 'status', path: 'status', type: 'code' },
        { name: 'effective', path: 'effective.ofType(dateTime)', type: 'dateTime' },
        { name: 'value', path: 'value.ofType(Quantity).value', type: 'decimal' },
        { name: 'final', path: "status = 'final'", type: 'boolean' },
        { name: 'codes', path: 'code.coding.code', type: 'code', collection: true },
      ],
    },
  ],
};
const COLUMNS: ColumnSpec[] = VIEW.select[0].column.map((c) => ({ name: c.name, type: c.type, collection: 'collection' in c }));

const observation = (i: number) => ({
  resourceType: 'Observation',
  id: `g${i}`,
  status: i % 3 ? 'final' : 'amended',
  code: { coding: [{ system: 'http://loinc.org', code: '83172-7' }] },
  effectiveDateTime: `2026-04-${String((i % 27) + 1).padStart(2, '0')}T08:30:00+02:00`,
  valueQuantity: { value: 0.5 + i / 100, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' },
});

describeEachEngine('stride views sync, and the Parquet file of a view', (engine) => {
  let s: TestServer;
  let dir: string;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BOTS_DIR: '' });
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-views-'));
    for (let i = 0; i < 12; i++) expect((await fhir(s.baseUrl, 'PUT', `Observation/g${i}`, observation(i))).status).toBe(201);
    expect((await fhir(s.baseUrl, 'PUT', 'ViewDefinition/gait', VIEW)).status).toBe(201);
  });
  afterAll(async () => {
    await s?.close();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  });

  it('builds the table from another process, and the server keeps it current', { timeout: 120_000 }, async () => {
    const env = { ...s.env, STRIDE_BOTS_DIR: '', STRIDE_EXPORT_WORKERS: '0', STRIDE_LOG_LEVEL: 'silent' };
    const sync = await runCli(['views', 'sync', '--view', 'gait'], env);
    expect(sync.stderr).toBe('');
    expect(sync.code).toBe(0);
    expect(sync.stdout).toMatch(/ViewDefinition\/gait -> (views\.gait_speed|view_gait_speed): 12 rows from 12 Observation/);
    // Writes through the server after the other process registered the view.
    expect((await fhir(s.baseUrl, 'PUT', 'Observation/g3', { ...observation(3), status: 'final', valueQuantity: { value: 1.25, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' } })).status).toBe(200);
    expect((await fhir(s.baseUrl, 'DELETE', 'Observation/g4')).status).toBe(204);
    expect((await fhir(s.baseUrl, 'POST', 'Observation', observation(40))).status).toBe(201);
    const run = await fhir<Array<Record<string, unknown>>>(s.baseUrl, 'GET', 'ViewDefinition/gait/$run?_format=json');
    const table = await tableRows(s.stride, 'gait_speed', COLUMNS);
    expect(Object.keys(table)).toHaveLength(12);
    expect(table).toEqual(runRows(COLUMNS, run.body, 'id'));
    const list = await runCli(['views', 'list'], env);
    expect(list.stdout).toMatch(/ViewDefinition\/gait \(version 1\) -> (views\.gait_speed|view_gait_speed), Observation/);
  });

  it("the view's Parquet file has the table's rows", async () => {
    const res = await fetch(`${s.baseUrl}/ViewDefinition/gait/$run?_format=parquet`);
    expect(res.status).toBe(200);
    const file = path.join(dir, 'gait.parquet');
    fs.writeFileSync(file, Buffer.from(await res.arrayBuffer()));
    const db = await DuckDBInstance.create(':memory:');
    const conn = await db.connect();
    const read = await conn.runAndReadAll(`SELECT id, status, epoch_ms(effective) AS effective, value, final, codes FROM read_parquet('${file}')`);
    const rows = read.getRowObjectsJson().map((r) => ({ ...r, effective: new Date(Number(r.effective)).toISOString() }));
    conn.closeSync();
    expect(runRows(COLUMNS, rows, 'id')).toEqual(await tableRows(s.stride, 'gait_speed', COLUMNS));
  });
});
