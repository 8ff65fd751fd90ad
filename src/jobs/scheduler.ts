/**
 * The scheduler of one Stride process (issue 28 §1-2). Every tick it reads the job Tasks, and for each active one due
 * (its latest cron slot, schedule.ts) claims the run of that slot (runs.ts): one process in all runs it, others find
 * it taken; a run whose process died is taken over and finished once its lease lapses; slots missed while no process
 * ran are not replayed, the latest one runs once. Each run is recorded twice, in step: job_run (its key, lease and
 * summary) and a Task (based on the schedule) that REST clients read. The clock is injected: tests set it and call
 * tick(), nothing waits.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { Task, TaskOutput } from '@medplum/fhirtypes';
import type { Config } from '../config.js';
import type { Repository } from '../repo/repository.js';
import type { Store } from '../storage/store.js';
import { EMAIL_KINDS, JOB_KINDS, JOB_SYSTEM, dueSlot, readSchedule, type JobKind, type JobSchedule } from './schedule.js';
import { abandonOlder, claimRun, finishRun, lapsedRun, LeaseLost, renewRun, setRunTask, type RunRow } from './runs.js';
import { RunSummary, type JobContext } from './context.js';
import type { Mailer } from './mailer.js';
import { submitReadyClaims } from './kinds/submit-claims.js';
import { statementRun } from './kinds/statement-run.js';
import { sendStatements } from './kinds/send-statements.js';
import { sendReminders } from './kinds/send-reminders.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const JOB_RUN_SYSTEM = 'http://stride-fhir.org/fhir/sid/job-run';
export const JOB_OUTPUT_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/job-output';

const KINDS: Record<JobKind, (ctx: JobContext) => Promise<void>> = {
  'submit-claims': submitReadyClaims,
  'statement-run': statementRun,
  'send-statements': sendStatements,
  'send-reminders': sendReminders,
};

export interface JobEntry {
  task: Task;
  schedule?: JobSchedule;
  /** Why the Task is not a valid schedule (written before the check, or by hand in the database). */
  error?: string;
}

export interface RunReport {
  job: string;
  name: string;
  slot: number;
  /** done | failed: this process ran it; taken: another process has it; lost: taken over while running here. */
  outcome: 'done' | 'failed' | 'taken' | 'lost';
  resumed: boolean;
  text: string;
  summary?: object;
  taskId?: string;
}

export interface JobSchedulerDeps {
  repo: Repository;
  store: Store;
  config: Config;
  logger: Logger;
  mailer?: Mailer;
}

export class JobScheduler {
  readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private clock: () => number = Date.now;
  private timer?: NodeJS.Timeout;
  private ticking?: Promise<unknown>;

  constructor(private readonly deps: JobSchedulerDeps) {}

  /** Tests drive time: every date the jobs write, and which slot is due, come from this clock. */
  useClock(clock: () => number): void {
    this.clock = clock;
  }

  private get leaseMs(): number {
    return this.deps.config.jobs.leaseSeconds * 1000;
  }

  async list(): Promise<JobEntry[]> {
    const found = await this.deps.repo.search({ resourceType: 'Task', params: { code: [JOB_KINDS.map((k) => `${JOB_SYSTEM}|${k}`).join(',')], intent: ['plan'], _sort: ['_id'] }, count: 1000, offset: 0, total: 'none' });
    return found.rows.map((r) => {
      const task = parseJsonKeepingDecimals(r.content) as Task;
      try {
        return { task, schedule: readSchedule(task) };
      } catch (err) {
        return { task, error: (err as Error).message };
      }
    });
  }

  /** The message refusing active email jobs when there is no SMTP server to send through, else undefined. */
  emailRefusal(entries: readonly JobEntry[]): string | undefined {
    if (this.deps.mailer) return undefined;
    const email = entries.filter((e) => e.schedule?.active && EMAIL_KINDS.has(e.schedule.kind)).map((e) => `${e.schedule!.name} (${e.schedule!.kind})`);
    if (email.length === 0) return undefined;
    return `jobs that send email are scheduled but STRIDE_SMTP_URL is not set: ${email.join(', ')}. Set STRIDE_SMTP_URL (e.g. smtp://user:password@mail.example.org:587), or put these jobs on hold (Task.status on-hold); they are never skipped silently`;
  }

  /** At start (`stride serve`): refuses to run with email jobs and no SMTP server; then ticks every tickSeconds. */
  async start(): Promise<void> {
    const refusal = this.emailRefusal(await this.list());
    if (refusal) throw new Error(refusal);
    const seconds = this.deps.config.jobs.tickSeconds;
    if (seconds === 0) return;
    this.timer = setInterval(() => void this.tickInBackground(), seconds * 1000);
    this.timer.unref();
    void this.tickInBackground();
  }

  private async tickInBackground(): Promise<void> {
    if (this.ticking) return;
    this.ticking = this.tick().catch((err: unknown) => this.deps.logger.error({ err }, 'jobs: tick failed'));
    await this.ticking;
    this.ticking = undefined;
  }

  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    await this.ticking;
  }

  /** Runs every active schedule that is due now and that no process has run (or is running) for its slot. */
  async tick(): Promise<RunReport[]> {
    const reports: RunReport[] = [];
    for (const entry of await this.list()) {
      if (entry.error) this.deps.logger.error({ task: entry.task.id, error: entry.error }, 'jobs: a job Task is not a valid schedule');
      const schedule = entry.schedule;
      if (!schedule?.active) continue;
      const now = this.clock();
      const slot = dueSlot(schedule, now);
      if (slot === undefined) continue;
      const abandoned = await abandonOlder(this.deps.store, schedule.id, slot, now);
      if (abandoned > 0) this.deps.logger.warn({ job: schedule.name, abandoned }, 'jobs: interrupted runs of earlier slots closed; this slot does their work');
      const claim = await claimRun(this.deps.store, { job: schedule.id, slot, manual: false, owner: this.owner, now, leaseMs: this.leaseMs });
      if (claim.outcome === 'taken') continue;
      reports.push(await this.execute(schedule, claim.run!, claim.outcome === 'resumed'));
    }
    return reports;
  }

  /** `stride jobs run NAME`: finishes the job's interrupted run if there is one, else runs it now. */
  async runNow(name: string): Promise<RunReport> {
    const entry = (await this.list()).find((e) => e.schedule?.name === name || (e.error && e.task.identifier?.some((i) => i.value === name)));
    if (!entry) throw new Error(`no job named ${name} (stride jobs list shows them)`);
    if (!entry.schedule) throw new Error(`job ${name} is not a valid schedule: ${entry.error}`);
    const schedule = entry.schedule;
    const now = this.clock();
    const lapsed = await lapsedRun(this.deps.store.reader, schedule.id, now);
    const slot = lapsed?.slot ?? now;
    const claim = await claimRun(this.deps.store, { job: schedule.id, slot, manual: !lapsed, owner: this.owner, now, leaseMs: this.leaseMs });
    if (claim.outcome === 'taken') return { job: schedule.id, name, slot, outcome: 'taken', resumed: false, text: 'another process is running this job' };
    return this.execute(schedule, claim.run!, claim.outcome === 'resumed');
  }

  private async execute(schedule: JobSchedule, run: RunRow, resumed: boolean): Promise<RunReport> {
    const { repo, store, config, logger, mailer } = this.deps;
    const summary = new RunSummary();
    const report = (outcome: RunReport['outcome'], text: string, taskId?: string): RunReport => ({ job: schedule.id, name: schedule.name, slot: run.slot, outcome, resumed, text, summary: summary.toJSON(), ...(taskId ? { taskId } : {}) });
    let taskId = run.taskId;
    if (!taskId) {
      taskId = (await repo.create(runTask(schedule, run, 'in-progress', this.clock()))).stored.id;
      await setRunTask(store, schedule.id, run.slot, taskId);
    }
    const ctx: JobContext = {
      repo, store, config, logger, schedule, summary, mailer,
      slot: run.slot,
      now: this.clock,
      owner: this.owner,
      leaseMs: this.leaseMs,
      keep: () => store.transaction((tx) => renewRun(tx, schedule.id, run.slot, this.owner, this.clock(), this.leaseMs)),
    };
    let failure: string | undefined;
    if (EMAIL_KINDS.has(schedule.kind) && !mailer) failure = this.emailRefusal([{ task: {} as Task, schedule }]);
    else {
      try {
        await KINDS[schedule.kind](ctx);
      } catch (err) {
        if (err instanceof LeaseLost) {
          logger.warn({ job: schedule.name, slot: run.slot }, 'jobs: the run was taken over by another process; this one stops');
          return report('lost', err.message, taskId);
        }
        logger.error({ err, job: schedule.name }, 'jobs: run failed');
        failure = (err as Error).message;
      }
    }
    const status = failure === undefined ? 'done' : 'failed';
    const text = failure === undefined ? summary.text() : `failed: ${failure}`;
    try {
      await repo.transaction(async (tx) => {
        const stored = await tx.read('Task', taskId!);
        const task = { ...(parseJsonKeepingDecimals(stored.json) as Task), ...runTask(schedule, run, failure === undefined ? 'completed' : 'failed', this.clock(), summary, failure) };
        await tx.update({ ...task, id: taskId! });
        await finishRun(tx.db, schedule.id, run.slot, this.owner, status, JSON.stringify({ ...summary.toJSON(), ...(failure ? { error: failure } : {}) }), this.clock());
      });
    } catch (err) {
      if (err instanceof LeaseLost) return report('lost', err.message, taskId);
      throw err;
    }
    logger.info({ job: schedule.name, slot: new Date(run.slot).toISOString(), status, summary: text }, 'jobs: run finished');
    return report(status, text, taskId);
  }
}

/** The Task that records a run (based on its schedule): what it did as outputs, what failed as statusReason. */
function runTask(schedule: JobSchedule, run: RunRow, status: 'in-progress' | 'completed' | 'failed', now: number, summary?: RunSummary, failure?: string): Task {
  const slotIso = new Date(run.slot).toISOString();
  const output: TaskOutput[] = [];
  const out = (code: string, value: Partial<TaskOutput>) => output.push({ type: { coding: [{ system: JOB_OUTPUT_SYSTEM, code }], text: code }, ...value } as TaskOutput);
  if (summary) {
    for (const [k, v] of Object.entries(summary.counts)) out(k, { valueUnsignedInt: v });
    for (const [k, v] of Object.entries(summary.amounts)) out(k, { valueMoney: { value: v / 100, currency: 'USD' } });
    for (const f of summary.failures) out('failure', { valueString: `${f.about}: ${f.reason}` });
    for (const s of summary.skipped) out('left-out', { valueString: `${s.about}: ${s.reason}` });
    for (const m of summary.made) out('made', { valueString: `${m.about}: ${m.reason}` });
  }
  return {
    resourceType: 'Task',
    identifier: [{ system: JOB_RUN_SYSTEM, value: `${schedule.name}@${slotIso}` }],
    basedOn: [{ reference: `Task/${schedule.id}`, display: schedule.name }],
    status,
    intent: 'order',
    code: { coding: [{ system: JOB_SYSTEM, code: schedule.kind }], text: `${schedule.kind} run${run.manual ? ' (manual)' : ''}` },
    description: summary ? (failure ? `failed: ${failure}` : summary.text()) : `running since ${new Date(now).toISOString()}`,
    authoredOn: slotIso,
    executionPeriod: { start: new Date(run.startedAt).toISOString(), ...(status !== 'in-progress' ? { end: new Date(now).toISOString() } : {}) },
    ...(failure ? { statusReason: { text: failure } } : {}),
    ...(output.length > 0 ? { output } : {}),
  };
}
