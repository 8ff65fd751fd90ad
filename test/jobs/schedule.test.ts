/**
 * Which slot a schedule is due for (src/jobs/schedule.ts), on a clock the test sets: the clinic's time zone,
 * daylight-saving changes (a skipped local time runs once, a repeated one once), slots missed while down (only the
 * latest), a schedule's start; and schedules that are refused, with the reason.
 */
import { describe, expect, it } from 'vitest';
import type { Task } from '@medplum/fhirtypes';
import { daysBetween, dueSlot, readSchedule, ScheduleError, type JobSchedule } from '../../src/jobs/schedule.js';
import { jobTask } from './data.js';

const schedule = (cron: string, timeZone: string, from?: string): JobSchedule => readSchedule({ ...jobTask('j', 'statement-run', cron, {}, { timeZone, ...(from ? { from } : {}) }), id: 't1' });
const iso = (ms: number | undefined) => (ms === undefined ? undefined : new Date(ms).toISOString());
/** Every slot run by a process that ticks each minute from `start` to `end`: what a live scheduler would run. */
function slotsRun(s: JobSchedule, start: string, end: string): string[] {
  const out = new Set<string>();
  for (let t = Date.parse(start); t <= Date.parse(end); t += 60_000) {
    const slot = dueSlot(s, t);
    if (slot !== undefined && slot >= Date.parse(start)) out.add(iso(slot)!);
  }
  return [...out];
}

describe('jobs: due slots on a controllable clock', () => {
  it('09:00 in New York is 14:00 UTC in winter and 13:00 UTC in summer', () => {
    const s = schedule('0 9 * * *', 'America/New_York');
    expect(iso(dueSlot(s, Date.parse('2026-12-01T14:30:00Z')))).toBe('2026-12-01T14:00:00.000Z');
    expect(iso(dueSlot(s, Date.parse('2026-12-01T13:59:59Z')))).toBe('2026-11-30T14:00:00.000Z');
    expect(iso(dueSlot(s, Date.parse('2026-07-01T13:00:00Z')))).toBe('2026-07-01T13:00:00.000Z');
    // Exactly on the slot, it is due.
    expect(iso(dueSlot(s, Date.parse('2026-12-01T14:00:00Z')))).toBe('2026-12-01T14:00:00.000Z');
  });

  it('the same cron in Europe/Berlin and in UTC are different instants', () => {
    const t = Date.parse('2026-12-01T12:00:00Z');
    expect(iso(dueSlot(schedule('0 8 * * *', 'Europe/Berlin'), t))).toBe('2026-12-01T07:00:00.000Z');
    expect(iso(dueSlot(schedule('0 8 * * *', 'UTC'), t))).toBe('2026-12-01T08:00:00.000Z');
  });

  it('spring forward: 02:30 does not exist on 2026-03-08 in New York; the job runs once that day, at 03:00 EDT', () => {
    const s = schedule('30 2 * * *', 'America/New_York');
    expect(slotsRun(s, '2026-03-07T00:00:00Z', '2026-03-09T12:00:00Z')).toEqual(['2026-03-07T07:30:00.000Z', '2026-03-08T07:00:00.000Z', '2026-03-09T06:30:00.000Z']);
  });

  it('fall back: 01:30 happens twice on 2026-11-01 in New York; the job runs once', () => {
    const s = schedule('30 1 * * *', 'America/New_York');
    expect(slotsRun(s, '2026-10-31T00:00:00Z', '2026-11-02T12:00:00Z')).toEqual(['2026-10-31T05:30:00.000Z', '2026-11-01T05:30:00.000Z', '2026-11-02T06:30:00.000Z']);
  });

  it('an hourly job down for 5 hours is due once, for its latest slot', () => {
    const s = schedule('0 * * * *', 'UTC');
    expect(iso(dueSlot(s, Date.parse('2026-12-01T15:20:00Z')))).toBe('2026-12-01T15:00:00.000Z');
  });

  it('a schedule does not run for slots before it was authored', () => {
    const s = schedule('0 9 * * *', 'America/New_York', '2026-12-01T10:00:00-05:00');
    expect(dueSlot(s, Date.parse('2026-12-01T16:00:00Z'))).toBeUndefined();
    expect(iso(dueSlot(s, Date.parse('2026-12-02T14:00:00Z')))).toBe('2026-12-02T14:00:00.000Z');
  });

  it('reminder days are calendar days in the clinic\'s time zone, a DST change day counting as one', () => {
    // 23:30 EST on Nov 30 is Dec 1 in UTC: one local day to 00:30 EST on Dec 2, not zero.
    expect(daysBetween(Date.parse('2026-12-01T04:30:00Z'), Date.parse('2026-12-02T05:30:00Z'), 'America/New_York')).toBe(2);
    expect(daysBetween(Date.parse('2026-03-01T14:00:00Z'), Date.parse('2026-03-15T13:00:00Z'), 'America/New_York')).toBe(14);
  });

  it('refuses a schedule with a bad cron, time zone, kind, name or placeholder, saying which', () => {
    const bad = (task: Task) => {
      try {
        readSchedule(task);
        return 'accepted';
      } catch (err) {
        expect(err).toBeInstanceOf(ScheduleError);
        return (err as Error).message;
      }
    };
    expect(bad(jobTask('j', 'statement-run', '61 * * * *'))).toContain('input cron "61 * * * *" does not parse');
    expect(bad(jobTask('j', 'statement-run', '0 9 * * *', {}, { timeZone: 'Mars/Olympus' }))).toContain('IANA time zone');
    expect(bad(jobTask('j', 'bake-cookies', '0 9 * * *'))).toContain('Task.code is one of submit-claims, statement-run, send-statements, send-reminders');
    expect(bad(jobTask('no spaces', 'statement-run', '0 9 * * *'))).toContain('a job needs a name');
    expect(bad(jobTask('j', 'send-statements', '0 9 * * *', { subject: 'Pay {{amount}} to {{bank}}' }))).toContain('unknown placeholders {{bank}}');
    expect(bad(jobTask('j', 'send-reminders', '0 9 * * *', { 'after-days': 14, 'max-reminders': 3 }))).toBe('accepted');
  });
});
