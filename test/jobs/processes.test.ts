/**
 * Exactly once across real processes (issue 28 §2), messages received by a real SMTP server in the test process:
 * a `stride jobs run` killed (SIGKILL) while the SMTP server holds its third statement, then run again, finishes the
 * same run and every statement arrives once (both engines); two `stride serve` processes on one PostgreSQL with the
 * same schedule (every second) send each statement once.
 */
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { postgresEngine } from '../support/engines.js';
import { fhir } from '../support/http.js';
import { CLI, ROOT, runCli } from '../support/cli.js';
import { startServerProcess, type ServerProcess } from '../support/process.js';
import { sql } from '../../src/sql/sql.js';
import { keyOf, startSmtp, type TestSmtp } from '../bench/smtp.js';
import { jobData, jobTask, type JobData } from './data.js';

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** A server with the data, its statements issued (in process), and the statements' send job. */
async function prepare(s: TestServer, data: JobData, sendCron: string): Promise<string[]> {
  for (const bundle of data.bundles) expect((await fhir(s.baseUrl, 'POST', '', bundle)).status).toBe(200);
  for (const task of [jobTask('statements-issue', 'statement-run', '0 6 * * *'), jobTask('statements-send', 'send-statements', sendCron, {}, { from: new Date().toISOString() })]) {
    const reply = await fhir<Task>(s.baseUrl, 'POST', 'Task', task);
    expect(reply.status, reply.text.slice(0, 300)).toBe(201);
  }
  expect((await s.stride.jobs.runNow('statements-issue')).outcome).toBe('done');
  const invoices = await s.stride.store.reader.all<{ id: string; content: string }>(sql`SELECT id, content FROM resource WHERE resource_type = ${'Invoice'}`);
  const invoiceOf = new Map(invoices.map((r) => [JSON.parse(r.content).subject.reference as string, r.id]));
  return [...data.owed.keys()].filter((p) => p !== data.noEmail && p !== data.optedOut).map((p) => `statement:${invoiceOf.get(p)}`).sort();
}

describeEachEngine('jobs: a process killed mid-run', (engine) => {
  let s: TestServer;
  let smtp: TestSmtp;
  const data = jobData({ claims: 30, patients: 10, prefix: 'jk' });

  beforeAll(async () => {
    smtp = await startSmtp();
    s = await startTestServer(engine, { STRIDE_JOBS_TICK_SECONDS: '0', STRIDE_SMTP_URL: smtp.url });
  }, 300_000);
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('killed while the SMTP server holds its third statement, run again: the same run finishes, each statement once', async () => {
    const want = await prepare(s, data, '0 7 * * *');
    const env = { ...process.env, ...s.env, STRIDE_SMTP_URL: smtp.url, STRIDE_JOBS_LEASE_SECONDS: '2', STRIDE_LOG_LEVEL: 'warn' };
    const held = smtp.holdAt(3);
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'jobs', 'run', 'statements-send'], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stdout.on('data', (d) => (output += d));
    child.stderr.on('data', (d) => (output += d));
    const exited = new Promise((resolve) => child.once('exit', resolve));
    await Promise.race([held, exited.then(() => Promise.reject(new Error(`stride jobs run exited before the third message:\n${output}`)))]);
    child.kill('SIGKILL');
    await exited;
    expect(smtp.accepted.map(keyOf)).toHaveLength(2);
    // Its lease (2 s) lapses; until then another run would find the run taken.
    await sleep(2300);
    const again = await runCli(['jobs', 'run', 'statements-send'], { ...s.env, STRIDE_SMTP_URL: smtp.url, STRIDE_JOBS_LEASE_SECONDS: '2', STRIDE_LOG_LEVEL: 'warn' });
    expect(again.code, again.stdout + again.stderr).toBe(0);
    expect(again.stdout).toMatch(/statements-send \(the interrupted run of .*, finished\): done: .*already-sent 2/);
    const keys = smtp.accepted.map(keyOf);
    expect(keys.slice().sort()).toEqual(want);
    const job = (await fhir(s.baseUrl, 'GET', 'Task?identifier=http://stride-fhir.org/fhir/sid/job|statements-send')).body.entry[0].resource.id as string;
    const runs = await s.stride.store.reader.all<{ status: string; attempts: number | string }>(sql`SELECT status, attempts FROM job_run WHERE job = ${job}`);
    expect(runs.map((r) => [r.status, Number(r.attempts)])).toEqual([['done', 2]]);
  }, 120_000);

  it('stride serve without STRIDE_SMTP_URL refuses to start while an email job is scheduled, naming it', async () => {
    const { STRIDE_SMTP_URL: _smtp, ...withoutSmtp } = s.env;
    const started = startServerProcess(withoutSmtp);
    // Should it start after all, it is stopped (and the test fails).
    started.then((p) => p.stop(), () => undefined);
    await expect(started).rejects.toThrow(/jobs that send email are scheduled but STRIDE_SMTP_URL is not set: statements-send \(send-statements\)/);
  }, 60_000);
});

// Several Stride processes on one database is how Stride scales out on PostgreSQL (README, "Scaling out"); SQLite
// serves one process.
describe('jobs: two stride serve processes on one PostgreSQL with the same schedule', async () => {
  const reason = await postgresEngine.unavailable();
  if (reason && process.env.STRIDE_TEST_REQUIRE_PG !== '1') return it.skip(reason, () => undefined);
  let s: TestServer;
  let smtp: TestSmtp;
  const servers: ServerProcess[] = [];
  const data = jobData({ claims: 40, patients: 16, prefix: 'jp' });

  beforeAll(async () => {
    smtp = await startSmtp();
    s = await startTestServer(postgresEngine, { STRIDE_JOBS_TICK_SECONDS: '0', STRIDE_SMTP_URL: smtp.url });
  }, 300_000);
  afterAll(async () => {
    for (const p of servers) await p.stop();
    await s?.close();
    await smtp?.close();
  });

  it('a schedule due every second, both processes ticking every second: each statement arrives once', async () => {
    const want = await prepare(s, data, '* * * * * *');
    const env = { ...s.env, STRIDE_SMTP_URL: smtp.url, STRIDE_JOBS_TICK_SECONDS: '1' };
    servers.push(...(await Promise.all([startServerProcess(env), startServerProcess(env)])));
    const deadline = Date.now() + 60_000;
    while (smtp.accepted.length < want.length && Date.now() < deadline) await sleep(200);
    // A few more seconds of both processes running the schedule: nothing more arrives.
    await sleep(3000);
    const keys = smtp.accepted.map(keyOf);
    expect(keys.slice().sort()).toEqual(want);
    const runs = await s.stride.store.reader.all<{ owner: string; status: string }>(sql`SELECT owner, status FROM job_run WHERE manual = ${0}`);
    expect(runs.length).toBeGreaterThan(1);
    expect(runs.every((r) => r.status === 'done' || r.status === 'running')).toBe(true);
  }, 180_000);
});
