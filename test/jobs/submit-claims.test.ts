/**
 * The submit-claims job (issue 28 §1): ready Claims billed from therapy sessions go out as Claim/$submit sends them,
 * per payer or all, at the job's slot on a controllable clock; the run's Task names each 837P file; a second run
 * sends nothing again.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Claim, DocumentReference, Task } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { createPatient, createPractice, searchAll, type Practice } from '../claims/practice.js';
import { jobTask } from './data.js';

const PATIENTS = 6;

describeEachEngine('jobs: submit-claims', (engine) => {
  let s: TestServer;
  let practice: Practice;
  let now = Date.parse('2026-12-01T22:00:00Z');
  const claimsOf = async (payer?: string) => (await searchAll<Claim>(s.baseUrl, 'Claim?status=active')).filter((c) => !payer || c.insurer?.reference === payer);
  const submitted = (c: Claim) => (c.extension ?? []).some((e) => e.url === 'http://stride-fhir.org/fhir/StructureDefinition/claim-submission');

  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_JOBS_TICK_SECONDS: '0' });
    s.stride.jobs.useClock(() => now);
    practice = await createPractice(s.baseUrl);
    for (let k = 0; k < PATIENTS; k++) {
      await createPatient(s.baseUrl, practice, { payer: practice.payers[k % 3]!, clinic: practice.clinics[k % 2]!, family: `Submit${k}`, sessions: [{ date: '2026-11-16', services: [{ name: 'gait', minutes: 23 }] }] });
    }
    const from = '2026-12-01T00:00:00-06:00';
    for (const task of [
      jobTask('submit-first-payer', 'submit-claims', '0 17 * * 1-5', { payer: practice.payers[0]!.ref }, { timeZone: 'America/Chicago', from }),
      jobTask('submit-all', 'submit-claims', '30 17 * * 1-5', {}, { timeZone: 'America/Chicago', from }),
    ]) {
      const reply = await fhir<Task>(s.baseUrl, 'POST', 'Task', task);
      expect(reply.status, reply.text.slice(0, 300)).toBe(201);
    }
  }, 600_000);
  afterAll(async () => s?.close());

  it('at 17:00 Chicago time the first payer\'s ready claims go out in one 837P, named in the run', async () => {
    const mine = await claimsOf(practice.payers[0]!.ref);
    expect(mine.length).toBeGreaterThan(0);
    expect(mine.some(submitted)).toBe(false);
    now = Date.parse('2026-12-01T23:00:05Z'); // 17:00:05 CST
    const reports = await s.stride.jobs.tick();
    expect(reports.map((r) => [r.name, r.outcome])).toEqual([['submit-first-payer', 'done']]);
    expect(reports[0]!.text).toContain(`files 1, claims-sent ${mine.length}`);
    expect((await claimsOf(practice.payers[0]!.ref)).every(submitted)).toBe(true);
    expect((await claimsOf()).filter(submitted)).toHaveLength(mine.length);
    const run = (await fhir<Task>(s.baseUrl, 'GET', `Task/${reports[0]!.taskId}`)).body;
    const made = run.output!.filter((o) => o.type.coding?.[0]?.code === 'made').map((o) => o.valueString!);
    expect(made).toHaveLength(1);
    const docRef = made[0]!.split(':')[0]!;
    const doc = (await fhir<DocumentReference>(s.baseUrl, 'GET', docRef)).body;
    expect(doc.context?.related?.map((r) => r.reference).sort()).toEqual(mine.map((c) => `Claim/${c.id}`).sort());
  });

  it('at 17:30 the all-payers job sends the others, and a run again sends nothing', async () => {
    const others = (await claimsOf()).filter((c) => !submitted(c));
    const payers = new Set(others.map((c) => c.insurer?.reference));
    expect(payers.size).toBe(2);
    now = Date.parse('2026-12-01T23:30:05Z');
    const [all] = await s.stride.jobs.tick();
    expect(all!.name).toBe('submit-all');
    expect(all!.text).toContain(`files 2, claims-sent ${others.length}`);
    expect((await claimsOf()).every(submitted)).toBe(true);
    const again = await s.stride.jobs.runNow('submit-all');
    expect(again.text).toBe('files 0, claims-sent 0');
  });
});
