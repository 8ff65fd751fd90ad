/**
 * What a job kind gets to do its work (src/jobs/kinds/), and the summary it fills: counts by outcome, and for what
 * failed or was left out (no email, opted out), which invoice or patient and why. The summary is the run's record
 * (job_run.summary and the run's Task).
 */
import type { Logger } from 'pino';
import type { Repository } from '../repo/repository.js';
import type { Store } from '../storage/store.js';
import type { Config } from '../config.js';
import type { JobSchedule } from './schedule.js';
import type { Mailer } from './mailer.js';
import { usd } from '../money/statement.js';

export interface JobContext {
  repo: Repository;
  store: Store;
  config: Config;
  logger: Logger;
  schedule: JobSchedule;
  /** The slot this run is for (epoch ms). */
  slot: number;
  /** The scheduler's clock (tests move it): every date a job writes comes from it. */
  now(): number;
  owner: string;
  leaseMs: number;
  mailer?: Mailer;
  summary: RunSummary;
  /** Renews this run's lease; throws LeaseLost when another process has taken the run over. */
  keep(): Promise<void>;
}

/** How many of `about`/`reason` pairs a summary lists; the counts go on. */
const LISTED = 200;

export interface Noted {
  about: string;
  reason: string;
}

export class RunSummary {
  readonly counts: Record<string, number> = {};
  /** Sums of money (cents), e.g. what the Invoices issued or the statements sent ask for. */
  readonly amounts: Record<string, number> = {};
  readonly failures: Noted[] = [];
  readonly skipped: Noted[] = [];
  /** What the run made (an 837P file ...), for the record. */
  readonly made: Noted[] = [];

  add(what: string, n = 1): void {
    this.counts[what] = (this.counts[what] ?? 0) + n;
  }

  addAmount(what: string, cents: number): void {
    this.amounts[what] = (this.amounts[what] ?? 0) + cents;
  }

  fail(about: string, reason: string): void {
    this.add('failed');
    if (this.failures.length < LISTED) this.failures.push({ about, reason });
  }

  /** Left out, with the reason as its count's name (no-email, opted-out ...). */
  skip(about: string, reason: string, detail: string): void {
    this.add(reason);
    if (this.skipped.length < LISTED) this.skipped.push({ about, reason: detail });
  }

  note(about: string, what: string): void {
    if (this.made.length < LISTED) this.made.push({ about, reason: what });
  }

  toJSON(): object {
    return { counts: this.counts, amounts: this.amounts, failures: this.failures, skipped: this.skipped, made: this.made };
  }

  /** One line: "statements-sent 12, no-email 1, amount-due $1,234.00". */
  text(): string {
    const parts = [...Object.entries(this.counts).map(([k, v]) => `${k} ${v}`), ...Object.entries(this.amounts).map(([k, v]) => `${k} ${usd(v)}`)];
    return parts.length > 0 ? parts.join(', ') : 'nothing to do';
  }
}
