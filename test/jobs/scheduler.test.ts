/**
 * The scheduler over a real database, on a clock the test sets (issue 28 §1-2): job Tasks written and checked over
 * REST; a slot runs once, however many Stride instances tick at once on the database; slots missed while down run
 * once, the latest; a paused job does not run; a run left by a dead process is taken over once its lease lapses, not
 * before; each run is a Task based on the job, with what it did; email jobs without STRIDE_SMTP_URL are refused at
 * start and their runs fail saying why, never skipped.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import pino from 'pino';
import type { Bundle, OperationOutcome, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { loadConfig } from '../../src/config.js';
import { openStride, type Stride } from '../../src/stride.js';
import { sql } from '../../src/sql/sql.js';
import { jobData, jobTask } from './data.js';
import { runCli } from '../support/cli.js';

describeEachEngine('jobs: scheduler', (engine) => {
  let s: TestServer;
  let other: Stride;
  let now = Date.parse('2026-12-01T12:20:00Z');
  const data = jobData({ claims: 12, patients: 5, prefix: 'js' });
  let hourly: string;

  const runs = async (job: string) => (await fhir<Bundle<Task>>(s.baseUrl, 'GET', `Task?based-on=Task/${job}&_count=100`)).body.entry?.map((e) => e.resource!) ?? [];
  const rows = async (job: string) => s.stride.store.reader.all<{ slot: number | string; status: string; owner: string; attempts: number | string }>(sql`SELECT slot, status, owner, attempts FROM job_run WHERE job = ${job} ORDER BY slot`);

  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_JOBS_TICK_SECONDS: '0', STRIDE_JOBS_LEASE_SECONDS: '60' });
    // A second Stride on the same database: its own connections, its own owner name, as another process has.
    other = await openStride(loadConfig({ ...s.env, STRIDE_JOBS_TICK_SECONDS: '0' }), pino({ level: 'silent' }));
    for (const j of [s.stride.jobs, other.jobs]) j.useClock(() => now);
    for (const bundle of data.bundles) expect((await fhir(s.baseUrl, 'POST', '', bundle)).status).toBe(200);
    const created = await fhir<Task>(s.baseUrl, 'POST', 'Task', jobTask('hourly-statements', 'statement-run', '0 * * * *', {}, { timeZone: 'UTC', from: '2026-12-01T00:00:00Z' }));
    expect(created.status, created.text.slice(0, 300)).toBe(201);
    hourly = created.body.id!;
  }, 300_000);
  afterAll(async () => {
    await other?.close();
    await s?.close();
  });

  it('a job Task that is not a valid schedule is refused (422) with the reason, and nothing is stored', async () => {
    const bad = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Task', jobTask('nightly', 'statement-run', '0 25 * * *'));
    expect(bad.status).toBe(422);
    expect(bad.body.issue[0]!.details!.text).toContain('input cron "0 25 * * *" does not parse');
    const twin = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Task', jobTask('hourly-statements', 'send-statements', '0 9 * * *'));
    expect(twin.status).toBe(422);
    expect(twin.body.issue[0]!.details!.text).toContain('another job is already named hourly-statements');
    const listed = (await fhir<Bundle<Task>>(s.baseUrl, 'GET', 'Task?intent=plan')).body.entry ?? [];
    expect(listed.map((e) => e.resource!.id)).toEqual([hourly]);
  });

  it('two Stride instances ticking at once on one database run the slot once', async () => {
    const [a, b] = await Promise.all([s.stride.jobs.tick(), other.jobs.tick()]);
    const ran = [...a, ...b];
    expect(ran).toHaveLength(1);
    expect(ran[0]!.outcome).toBe('done');
    expect(ran[0]!.text).toContain('invoices-issued');
    expect((await rows(hourly)).map((r) => new Date(Number(r.slot)).toISOString())).toEqual(['2026-12-01T12:00:00.000Z']);
    expect([...(await s.stride.jobs.tick()), ...(await other.jobs.tick())]).toEqual([]);
  });

  it('down for 5 hours: at start the latest missed slot runs once, not one run per slot', async () => {
    now = Date.parse('2026-12-01T17:30:00Z');
    const ran = [...(await other.jobs.tick()), ...(await s.stride.jobs.tick())];
    expect(ran.map((r) => new Date(r.slot).toISOString())).toEqual(['2026-12-01T17:00:00.000Z']);
    // Everything was invoiced at 12:00: this run issues nothing again.
    expect(ran[0]!.text).toBe(`nothing-new ${data.owed.size}`);
    expect((await rows(hourly)).length).toBe(2);
    const tasks = await runs(hourly);
    expect(tasks.map((t) => [t.status, t.authoredOn]).sort()).toEqual([
      ['completed', '2026-12-01T12:00:00.000Z'],
      ['completed', '2026-12-01T17:00:00.000Z'],
    ]);
  });

  it('a run left by a dead process is taken over once its lease lapses, not before, and finished', async () => {
    now = Date.parse('2026-12-01T18:00:10Z');
    const slot = Date.parse('2026-12-01T18:00:00Z');
    await s.stride.store.transaction((tx) => tx.run(sql`INSERT INTO job_run (job, slot, manual, status, owner, lease_until, attempts, started_at) VALUES (${hourly}, ${slot}, ${0}, ${'running'}, ${'dead-host:1:x'}, ${now + 30_000}, ${1}, ${now})`));
    expect(await s.stride.jobs.tick()).toEqual([]);
    now += 31_000;
    const [resumed] = await s.stride.jobs.tick();
    expect(resumed!.resumed).toBe(true);
    expect(resumed!.outcome).toBe('done');
    const row = (await rows(hourly)).find((r) => Number(r.slot) === slot)!;
    expect([row.status, Number(row.attempts), row.owner]).toEqual(['done', 2, s.stride.jobs.owner]);
  });

  it('a job on hold does not run; set ready again over REST, it runs at its next slot', async () => {
    const task = (await fhir<Task>(s.baseUrl, 'GET', `Task/${hourly}`)).body;
    expect((await fhir(s.baseUrl, 'PUT', `Task/${hourly}`, { ...task, status: 'on-hold' })).status).toBe(200);
    now = Date.parse('2026-12-01T19:05:00Z');
    expect(await s.stride.jobs.tick()).toEqual([]);
    expect((await fhir(s.baseUrl, 'PUT', `Task/${hourly}`, { ...task, status: 'ready' })).status).toBe(200);
    now = Date.parse('2026-12-01T20:00:01Z');
    expect((await s.stride.jobs.tick()).map((r) => new Date(r.slot).toISOString())).toEqual(['2026-12-01T20:00:00.000Z']);
  });

  it('an email job without STRIDE_SMTP_URL: start is refused with a clear message, and a run fails saying why', async () => {
    const created = await fhir<Task>(s.baseUrl, 'POST', 'Task', jobTask('mail-statements', 'send-statements', '0 7 * * *', {}, { timeZone: 'UTC', from: '2026-12-01T00:00:00Z' }));
    expect(created.status).toBe(201);
    await expect(other.jobs.start()).rejects.toThrow(/jobs that send email are scheduled but STRIDE_SMTP_URL is not set: mail-statements \(send-statements\)/);
    now = Date.parse('2026-12-02T07:00:01Z');
    const ran = (await s.stride.jobs.tick()).filter((r) => r.name === 'mail-statements');
    expect(ran.map((r) => r.outcome)).toEqual(['failed']);
    const [task] = await runs(created.body.id!);
    expect(task!.status).toBe('failed');
    expect(task!.statusReason?.text).toContain('STRIDE_SMTP_URL is not set');
    expect((await fhir(s.baseUrl, 'PUT', `Task/${created.body.id}`, { ...created.body, status: 'on-hold' })).status).toBe(200);
  });

  it('stride jobs list shows each job with its schedule and last run; stride jobs run of an unknown job exits 1 saying so', async () => {
    const list = await runCli(['jobs', 'list'], s.env);
    expect(list.code, list.stderr).toBe(0);
    const line = list.stdout.split('\n').find((l) => l.startsWith('hourly-statements'))!;
    expect(line).toContain('statement-run\t"0 * * * *" UTC\tscheduled, next ');
    expect(line).toMatch(/last run 2026-12-02T07:00:00.000Z done: nothing-new \d+/);
    expect(list.stdout).toContain('mail-statements\tsend-statements\t"0 7 * * *" UTC\ton hold');
    const unknown = await runCli(['jobs', 'run', 'no-such-job'], s.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toContain('no job named no-such-job');
  }, 120_000);
});
