/**
 * A job Task is checked when it is written (a WriteHook in the write's transaction): a cron that does not parse, an
 * unknown time zone or placeholder, or a name another job has, is a 422 that says so, and nothing is stored.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Task } from '@medplum/fhirtypes';
import type { Repository, WriteHook } from '../repo/repository.js';
import { unprocessable } from '../fhir/outcomes.js';
import { isJobTask, JOB_NAME_SYSTEM, readSchedule, ScheduleError } from './schedule.js';

export class JobScheduleCheck implements WriteHook {
  async afterWrite(tx: Repository): Promise<void> {
    for (const c of tx.changes) {
      if (c.resourceType !== 'Task' || c.deleted) continue;
      const task = (c.resource ?? JSON.parse(c.json)) as Task;
      if (!isJobTask(task)) continue;
      try {
        const schedule = readSchedule(task);
        const same = await tx.search({ resourceType: 'Task', params: { identifier: [`${JOB_NAME_SYSTEM}|${schedule.name}`] }, count: 2, offset: 0, total: 'none' });
        if (same.rows.some((r) => r.id !== c.id)) throw new ScheduleError(`another job is already named ${schedule.name}`);
      } catch (err) {
        if (err instanceof ScheduleError) throw new OperationOutcomeError(unprocessable(`Task/${c.id} is not a valid job schedule: ${err.message}`));
        throw err;
      }
    }
  }
}
