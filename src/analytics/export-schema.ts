/**
 * The tables of Bulk Data export jobs (migration 6, src/storage/schema.ts). A job, its files and their bytes live in
 * the database, not on a process's disk: any Stride process on the same PostgreSQL answers a status request or serves
 * a file, a job survives a restart, and a process that takes a job over finds everything the last one checkpointed.
 */
import type { Dialect } from '../sql/sql.js';

export function exportTables(d: Dialect): string[] {
  return [
    // status: queued | running | completed | failed | cancelled. spec is the checked kick-off (JSON); state the
    // checkpoint a job resumes from (JSON). lease_owner/lease_until: the process running it, and until when it may
    // without another checkpoint (0: free to take). transaction_time: Bulk Data's transactionTime, epoch ms.
    `CREATE TABLE export_job (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      status VARCHAR(16) NOT NULL,
      request TEXT NOT NULL,
      spec TEXT NOT NULL,
      state TEXT NOT NULL,
      transaction_time BIGINT NOT NULL,
      created_at BIGINT NOT NULL,
      updated_at BIGINT NOT NULL,
      lease_owner VARCHAR(200),
      lease_until BIGINT NOT NULL,
      attempts INTEGER NOT NULL,
      outcome TEXT,
      completed_at BIGINT,
      expires_at BIGINT,
      downloaded_at BIGINT
    )`,
    `CREATE INDEX export_job_waiting ON export_job (status, lease_until)`,
    `CREATE INDEX export_job_expires ON export_job (expires_at)`,
    // One row per file of a job: kind output | deleted | error; complete once nothing more is appended.
    `CREATE TABLE export_file (
      job_id VARCHAR(64) NOT NULL,
      name VARCHAR(200) NOT NULL,
      kind VARCHAR(16) NOT NULL,
      resource_type VARCHAR(64) NOT NULL,
      resources INTEGER NOT NULL,
      bytes BIGINT NOT NULL,
      chunks INTEGER NOT NULL,
      complete INTEGER NOT NULL,
      PRIMARY KEY (job_id, name)
    )`,
    // A file's bytes, in order: appended at each checkpoint, streamed one chunk at a time on download.
    `CREATE TABLE export_chunk (
      job_id VARCHAR(64) NOT NULL,
      name VARCHAR(200) NOT NULL,
      seq INTEGER NOT NULL,
      data ${d.bytesType} NOT NULL,
      PRIMARY KEY (job_id, name, seq)
    )`,
    // The patients a Group export (its members at kick-off) or a `patient` parameter limits the export to.
    `CREATE TABLE export_patient (
      job_id VARCHAR(64) NOT NULL,
      patient_id VARCHAR(64) NOT NULL,
      PRIMARY KEY (job_id, patient_id)
    )`,
  ];
}
