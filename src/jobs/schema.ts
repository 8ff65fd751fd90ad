/**
 * Migration 12: scheduled jobs (issue 28 §2, src/jobs/README.md). `job_run` has one row per run of a schedule, keyed
 * (job, slot): the first process whose INSERT of a slot's key succeeds runs it, every other one finds the key taken
 * (the same INSERT ... ON CONFLICT DO NOTHING on both engines). owner/lease_until say who runs it and until when it
 * may without renewing; a run whose process died is taken over once its lease has lapsed. `job_message` has one row
 * per message a job sends, keyed by what it is about and which step (`statement:<invoice>`, `reminder-2:<invoice>`),
 * written and committed before the message goes to SMTP: a key sent is never sent again, by any run or process.
 */
export function jobTables(): string[] {
  return [
    // job: the schedule Task's id; slot: the cron time it was due (epoch ms), or when a manual run was asked for.
    // status: running | done | failed | abandoned; summary: what it did (JSON, src/jobs/summary.ts).
    `CREATE TABLE job_run (
      job VARCHAR(64) NOT NULL,
      slot BIGINT NOT NULL,
      manual INTEGER NOT NULL,
      status VARCHAR(16) NOT NULL,
      owner VARCHAR(200) NOT NULL,
      lease_until BIGINT NOT NULL,
      attempts INTEGER NOT NULL,
      started_at BIGINT NOT NULL,
      finished_at BIGINT,
      summary TEXT,
      task_id VARCHAR(64),
      PRIMARY KEY (job, slot)
    )`,
    'CREATE INDEX job_run_status ON job_run (status, lease_until)',
    // status: sending (reserved, handed to SMTP) | sent | failed. subject: the Invoice; communication: its record.
    `CREATE TABLE job_message (
      message_key VARCHAR(200) NOT NULL PRIMARY KEY,
      job VARCHAR(64) NOT NULL,
      subject VARCHAR(128) NOT NULL,
      step VARCHAR(32) NOT NULL,
      status VARCHAR(16) NOT NULL,
      owner VARCHAR(200) NOT NULL,
      lease_until BIGINT NOT NULL,
      attempted_at BIGINT NOT NULL,
      sent_at BIGINT,
      reason TEXT,
      communication_id VARCHAR(64)
    )`,
    'CREATE INDEX job_message_subject ON job_message (subject, step)',
  ];
}
