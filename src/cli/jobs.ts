/**
 * `stride jobs list | run NAME` (issue 28 §1): the scheduled jobs (job Tasks) with their next slot and last run, and
 * running one now. `run` finishes the job's interrupted run if it has one (a process died in it), else starts one;
 * it prints what the run did and exits 1 when it failed (an email job without STRIDE_SMTP_URL among others).
 */
import { loadConfig } from '../config.js';
import { openStride } from '../stride.js';
import { listRuns } from '../jobs/runs.js';
import { nextSlot } from '../jobs/schedule.js';

export async function listJobsCommand(options: { json?: boolean }): Promise<number> {
  const stride = await openStride(loadConfig());
  try {
    const now = Date.now();
    const rows = [];
    for (const entry of await stride.jobs.list()) {
      const s = entry.schedule;
      const last = s ? (await listRuns(stride.store.reader, s.id, 1))[0] : undefined;
      rows.push({
        name: s?.name ?? entry.task.identifier?.[0]?.value ?? `Task/${entry.task.id}`,
        task: `Task/${entry.task.id}`,
        kind: s?.kind,
        cron: s?.cron,
        timeZone: s?.timeZone,
        state: entry.error ? `invalid: ${entry.error}` : s!.active ? 'scheduled' : 'on hold',
        next: s?.active ? new Date(nextSlot(s, now) ?? NaN).toISOString() : undefined,
        lastRun: last ? { slot: new Date(last.slot).toISOString(), status: last.status, summary: last.summary ? JSON.parse(last.summary) : undefined } : undefined,
      });
    }
    if (options.json) process.stdout.write(`${JSON.stringify(rows, null, 2)}\n`);
    else if (rows.length === 0) process.stdout.write('No jobs. A job is a Task with intent plan and a code of http://stride-fhir.org/fhir/CodeSystem/job (README, "Scheduled jobs").\n');
    else {
      for (const r of rows) {
        const last = r.lastRun ? `last run ${r.lastRun.slot} ${r.lastRun.status}${r.lastRun.summary?.counts ? `: ${Object.entries(r.lastRun.summary.counts).map(([k, v]) => `${k} ${v}`).join(', ')}` : ''}` : 'never run';
        process.stdout.write(`${r.name}\t${r.kind ?? '?'}\t"${r.cron ?? ''}" ${r.timeZone ?? ''}\t${r.state}${r.next ? `, next ${r.next}` : ''}\t${last}\n`);
      }
    }
    return 0;
  } finally {
    await stride.close();
  }
}

export async function runJobCommand(name: string): Promise<number> {
  const stride = await openStride(loadConfig());
  try {
    const report = await stride.jobs.runNow(name);
    const when = new Date(report.slot).toISOString();
    process.stdout.write(`${report.name}${report.resumed ? ` (the interrupted run of ${when}, finished)` : ` (${when})`}: ${report.outcome}: ${report.text}${report.taskId ? ` [Task/${report.taskId}]` : ''}\n`);
    if (report.outcome === 'failed') process.stderr.write(`stride jobs run ${name}: ${report.text}\n`);
    return report.outcome === 'done' ? 0 : 1;
  } catch (err) {
    process.stderr.write(`stride jobs run: ${(err as Error).message}\n`);
    return 1;
  } finally {
    await stride.close();
  }
}
