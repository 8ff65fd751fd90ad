/**
 * Schedules as data (issue 28 §1): a job is a Task of the Stride guide (profiles/README.md §12) with intent `plan`, a
 * code of the job CodeSystem (what it does), its name as an identifier (`stride jobs run NAME`), status `ready`
 * (scheduled) or `on-hold` (paused), and inputs: `cron` (5 or 6 fields, read by croner), `time-zone` (IANA, the
 * clinic's; default UTC) and the job's own settings. This file reads such a Task into a checked JobSchedule and
 * computes the slot a schedule is due for.
 */
import { Cron } from 'croner';
import type { Task, TaskInput } from '@medplum/fhirtypes';
import { unknownPlaceholders } from './templates.js';

export const JOB_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/job';
export const JOB_INPUT_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/job-input';
export const JOB_NAME_SYSTEM = 'http://stride-fhir.org/fhir/sid/job';

export const JOB_KINDS = ['submit-claims', 'statement-run', 'send-statements', 'send-reminders'] as const;
export type JobKind = (typeof JOB_KINDS)[number];
/** Kinds that send email: refused without STRIDE_SMTP_URL. */
export const EMAIL_KINDS: ReadonlySet<JobKind> = new Set(['send-statements', 'send-reminders']);

export interface JobSchedule {
  /** The schedule Task's id: the job's key in job_run. */
  id: string;
  name: string;
  kind: JobKind;
  cron: string;
  timeZone: string;
  active: boolean;
  /** Slots before this instant (Task.authoredOn) never run: a new schedule does not run for yesterday. */
  from?: number;
  /** submit-claims: only this payer (Organization/x); send-*: only Invoices this clinic issued (Organization/x). */
  payer?: string;
  clinic?: string;
  /** submit-claims: T (test) or P (production), as $submit's usage. */
  usage: 'T' | 'P';
  /** send-reminders: calendar days (clinic time zone) after the statement or the last reminder; most reminders. */
  afterDays: number;
  maxReminders: number;
  /** Email templates (src/jobs/templates.ts); defaults when absent. */
  subject?: string;
  body?: string;
}

export class ScheduleError extends Error {}

function input(task: Task, code: string): TaskInput | undefined {
  return task.input?.find((i) => i.type?.coding?.some((c) => c.system === JOB_INPUT_SYSTEM && c.code === code));
}

function text(task: Task, code: string): string | undefined {
  const i = input(task, code);
  return i?.valueString ?? i?.valueCode ?? i?.valueReference?.reference;
}

function count(task: Task, code: string, fallback: number): number {
  const i = input(task, code);
  const n = i?.valueUnsignedInt ?? i?.valuePositiveInt ?? i?.valueInteger ?? (i?.valueString !== undefined ? Number(i.valueString) : undefined);
  if (n === undefined) return fallback;
  if (!Number.isInteger(n) || n < 0) throw new ScheduleError(`input ${code} is a whole number, not ${JSON.stringify(n)}`);
  return n;
}

export function isJobTask(task: Task): boolean {
  return task.intent === 'plan' && (task.code?.coding ?? []).some((c) => c.system === JOB_SYSTEM);
}

/** The checked schedule of a job Task; a ScheduleError names what is wrong. */
export function readSchedule(task: Task): JobSchedule {
  const kind = task.code?.coding?.find((c) => c.system === JOB_SYSTEM)?.code as JobKind | undefined;
  if (!kind || !JOB_KINDS.includes(kind)) throw new ScheduleError(`Task.code is one of ${JOB_KINDS.join(', ')} (system ${JOB_SYSTEM}), not ${kind ?? 'missing'}`);
  const name = task.identifier?.find((i) => i.system === JOB_NAME_SYSTEM)?.value;
  if (!name || !/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(name)) throw new ScheduleError(`a job needs a name: Task.identifier with system ${JOB_NAME_SYSTEM} and a value of letters, digits, . _ -`);
  const cron = text(task, 'cron');
  if (!cron) throw new ScheduleError('input cron is required (e.g. "0 9 * * 1-5": 09:00 on weekdays)');
  const timeZone = text(task, 'time-zone') ?? 'UTC';
  checkTimeZone(timeZone);
  checkCron(cron, timeZone);
  const usage = text(task, 'usage') ?? 'T';
  if (usage !== 'T' && usage !== 'P') throw new ScheduleError(`input usage is T (test) or P (production), not ${usage}`);
  for (const ref of ['payer', 'clinic']) {
    const r = text(task, ref);
    if (r !== undefined && !/^Organization\/[A-Za-z0-9\-.]{1,64}$/.test(r)) throw new ScheduleError(`input ${ref} is a reference Organization/[id], not ${r}`);
  }
  for (const field of ['subject', 'body']) {
    const unknown = unknownPlaceholders(text(task, field) ?? '');
    if (unknown.length > 0) throw new ScheduleError(`input ${field} names unknown placeholders ${unknown.map((u) => `{{${u}}}`).join(', ')}`);
  }
  const from = task.authoredOn ? Date.parse(task.authoredOn) : undefined;
  return {
    id: task.id ?? '',
    name,
    kind,
    cron,
    timeZone,
    active: task.status === 'ready',
    ...(from !== undefined && !Number.isNaN(from) ? { from } : {}),
    payer: text(task, 'payer'),
    clinic: text(task, 'clinic'),
    usage,
    afterDays: count(task, 'after-days', 14),
    maxReminders: count(task, 'max-reminders', 2),
    subject: text(task, 'subject'),
    body: text(task, 'body'),
  };
}

function checkTimeZone(zone: string): void {
  try {
    new Intl.DateTimeFormat('en-US', { timeZone: zone });
  } catch {
    throw new ScheduleError(`input time-zone is an IANA time zone (e.g. America/New_York), not ${zone}`);
  }
}

function checkCron(pattern: string, timeZone: string): void {
  try {
    new Cron(pattern, { timezone: timeZone, paused: true }).stop();
  } catch (err) {
    throw new ScheduleError(`input cron "${pattern}" does not parse: ${(err as Error).message}`);
  }
}

/**
 * The slot a schedule is due for at `now`: its latest cron time at or before `now` (croner, in the schedule's time
 * zone: a local time skipped by a daylight-saving change runs once at the next valid time, one repeated runs once),
 * or undefined when none is due since `from`. Only the latest slot counts: slots missed while no process ran are not
 * run one by one.
 */
export function dueSlot(schedule: JobSchedule, now: number): number | undefined {
  const cron = new Cron(schedule.cron, { timezone: schedule.timeZone, paused: true });
  const last = cron.previousRuns(1, new Date(now + 1))[0];
  cron.stop();
  if (!last) return undefined;
  const slot = last.getTime();
  return schedule.from !== undefined && slot < schedule.from ? undefined : slot;
}

/** The next cron time after `now`, for `stride jobs list`. */
export function nextSlot(schedule: JobSchedule, now: number): number | undefined {
  const cron = new Cron(schedule.cron, { timezone: schedule.timeZone, paused: true });
  const next = cron.nextRun(new Date(now));
  cron.stop();
  return next?.getTime();
}

/** The calendar date (YYYY-MM-DD) of an instant in a time zone. */
export function localDate(ms: number, timeZone: string): string {
  // en-CA formats as YYYY-MM-DD.
  return new Intl.DateTimeFormat('en-CA', { timeZone, year: 'numeric', month: '2-digit', day: '2-digit' }).format(new Date(ms));
}

/** Whole calendar days from one instant's local date to another's, in a time zone (DST days count as one day). */
export function daysBetween(fromMs: number, toMs: number, timeZone: string): number {
  const day = (ms: number) => Date.parse(`${localDate(ms, timeZone)}T00:00:00Z`) / 86_400_000;
  return day(toMs) - day(fromMs);
}
