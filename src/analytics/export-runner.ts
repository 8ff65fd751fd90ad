/**
 * The export jobs of one Stride process: it looks for a job nobody holds (every second, and at once after a kick-off
 * in this process), runs up to STRIDE_EXPORT_WORKERS at a time, and removes expired jobs every minute. On stop, a
 * running job checkpoints at its next page and is given back, so the next process to start takes it up at once.
 */
import os from 'node:os';
import { randomUUID } from 'node:crypto';
import type { Logger } from 'pino';
import type { ExportConfig } from '../config.js';
import type { Store } from '../storage/store.js';
import { serverError } from '../fhir/outcomes.js';
import { claimJob, LeaseLost, markFailed, releaseJob, removeExpired } from './export-jobs.js';
import { ExportWork } from './export-work.js';
import type { ExportJob } from './export-types.js';

const POLL_MS = 1000;
const CLEANUP_MS = 60_000;
/** A job taken up this many times (each time its process stopped) fails instead of being tried again. */
const MAX_ATTEMPTS = 10;

const runners = new WeakMap<Store, ExportRunner>();

/** The runner of the process that opened `store`, to wake after a kick-off. */
export function exportRunnerOf(store: Store): ExportRunner | undefined {
  return runners.get(store);
}

export class ExportRunner {
  /** Names this process in leases: host, pid and a random part (a restarted process is another owner). */
  readonly owner = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  private readonly running = new Set<Promise<void>>();
  private timer?: NodeJS.Timeout;
  private lastCleanup = 0;
  private stopping = false;
  private polling?: Promise<void>;

  constructor(
    private readonly deps: { store: Store; config: ExportConfig; logger: Logger },
  ) {
    runners.set(deps.store, this);
  }

  start(): void {
    if (this.deps.config.workers === 0) return;
    this.timer = setInterval(() => this.wake(), POLL_MS);
    this.timer.unref();
    this.wake();
  }

  /** Looks for work now (one look at a time). */
  wake(): void {
    if (this.stopping || this.deps.config.workers === 0 || this.polling) return;
    this.polling = this.poll()
      .catch((err: unknown) => this.deps.logger.error({ err }, 'export: looking for jobs failed'))
      .finally(() => (this.polling = undefined));
  }

  private async poll(): Promise<void> {
    if (Date.now() - this.lastCleanup > CLEANUP_MS) {
      this.lastCleanup = Date.now();
      const removed = await removeExpired(this.deps.store);
      if (removed > 0) this.deps.logger.info({ removed }, 'export: expired jobs and their files removed');
    }
    while (!this.stopping && this.running.size < this.deps.config.workers) {
      const job = await claimJob(this.deps.store, this.owner, this.deps.config.leaseSeconds * 1000);
      if (!job) return;
      const run = this.run(job).finally(() => {
        this.running.delete(run);
        this.wake();
      });
      this.running.add(run);
    }
  }

  private async run(job: ExportJob): Promise<void> {
    const { store, config, logger } = this.deps;
    if (job.attempts > MAX_ATTEMPTS) {
      const outcome = serverError(`The export was interrupted ${job.attempts - 1} times (its process stopped each time) and was given up`);
      await markFailed(store, job.id, JSON.stringify(outcome), config.retentionSeconds * 1000, this.owner);
      return;
    }
    const started = Date.now();
    try {
      const work = new ExportWork({ store, config, logger, owner: this.owner, stopping: () => this.stopping }, job);
      const result = await work.run();
      if (result === 'stopped') await releaseJob(store, job.id, this.owner);
      else logger.info({ job: job.id, resources: job.state.exported, ms: Date.now() - started }, 'export completed');
    } catch (err) {
      if (err instanceof LeaseLost) {
        logger.info({ job: job.id }, 'export: the job was cancelled or taken over; this process stops working on it');
        return;
      }
      logger.error({ err, job: job.id }, 'export failed');
      const outcome = serverError(`The export failed: ${(err as Error).message}. The server log has the details under job ${job.id}`);
      await markFailed(store, job.id, JSON.stringify(outcome), config.retentionSeconds * 1000, this.owner).catch(() => undefined);
    }
  }

  /** Stops looking; running jobs checkpoint and are given back. */
  async stop(): Promise<void> {
    this.stopping = true;
    if (this.timer) clearInterval(this.timer);
    await this.polling;
    await Promise.all([...this.running]);
  }
}
