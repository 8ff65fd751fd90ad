/**
 * A message the SMTP server refuses (issue 28 §3): recorded as a Communication `not-done` with the server's reason,
 * listed as a failure in the run's Task, and sent by a later run once the server takes it; the others are not sent
 * again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Communication, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { keyOf, startSmtp, type TestSmtp } from '../bench/smtp.js';
import { jobData, jobTask } from './data.js';

describeEachEngine('jobs: a statement the SMTP server refuses', (engine) => {
  let s: TestServer;
  let smtp: TestSmtp;
  let refusing = true;
  const data = jobData({ claims: 20, patients: 8, prefix: 'jf' });
  const refused = [...data.email.entries()].find(([p]) => data.owed.has(p) && p !== data.optedOut)!;

  beforeAll(async () => {
    smtp = await startSmtp({ refuse: (address) => refusing && address === refused[1] });
    s = await startTestServer(engine, { STRIDE_SMTP_URL: smtp.url, STRIDE_JOBS_TICK_SECONDS: '0' });
    for (const bundle of data.bundles) expect((await fhir(s.baseUrl, 'POST', '', bundle)).status).toBe(200);
    for (const task of [jobTask('issue', 'statement-run', '0 6 * * *'), jobTask('send', 'send-statements', '0 7 * * *')]) expect((await fhir(s.baseUrl, 'POST', 'Task', task)).status).toBe(201);
    expect((await s.stride.jobs.runNow('issue')).outcome).toBe('done');
  }, 300_000);
  afterAll(async () => {
    await s?.close();
    await smtp?.close();
  });

  it('is a Communication not-done with the server\'s reason and a failure of the run; the next run sends it, and only it', async () => {
    const first = await s.stride.jobs.runNow('send');
    expect(first.outcome).toBe('done');
    expect(first.text).toContain('failed 1');
    const comms = async () => (await fhir<Bundle<Communication>>(s.baseUrl, 'GET', `Communication?subject=${refused[0]}`)).body.entry?.map((e) => e.resource!) ?? [];
    const [failed] = await comms();
    expect(failed!.status).toBe('not-done');
    expect(failed!.statusReason?.text).toMatch(/^Not sent: .*550/);
    expect(failed!.sent).toBeUndefined();
    const run = (await fhir<Task>(s.baseUrl, 'GET', `Task/${first.taskId}`)).body;
    expect(run.output?.filter((o) => o.type.coding?.[0]?.code === 'failure').map((o) => o.valueString)).toEqual([expect.stringContaining(`to ${refused[1]} not sent`)]);
    const accepted = smtp.accepted.length;
    refusing = false;
    const second = await s.stride.jobs.runNow('send');
    expect(second.text).toContain('statements-sent 1');
    expect(smtp.accepted.slice(accepted).map((m) => m.to && 'text' in m.to ? m.to.text : '')).toEqual([refused[1]]);
    const keys = smtp.accepted.map(keyOf);
    expect(new Set(keys).size).toBe(keys.length);
    expect((await comms()).map((c) => c.status).sort()).toEqual(['completed', 'not-done']);
  });
});
