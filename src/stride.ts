/** Opens everything a Stride process needs (storage, repository, router, app) from a Config. */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { Store } from './storage/store.js';
import { openStore } from './storage/open.js';
import { Repository } from './repo/repository.js';
import { createValidator } from './validation/validator.js';
import { createSearcher } from './search/searcher.js';
import { createIndexer } from './search/indexer.js';
import { createRouter } from './fhir/routes.js';
import type { Router } from './fhir/router.js';
import { createApp } from './app.js';
import { openBots } from './bots/open.js';
import type express from 'express';
import { ExportRunner } from './analytics/export-runner.js';
import { WriteHooks } from './repo/hooks.js';
import { MaterializedViews } from './analytics/materialized/hook.js';
import { ManualRemittances } from './claims/manual-eob.js';
import { SecondaryClaims } from './claims/secondary.js';
import { MoneyLedger } from './money/hook.js';
import { AuthService } from './auth/service.js';
import { AuditLog } from './auth/audit-log.js';
import { JobScheduler } from './jobs/scheduler.js';
import { JobScheduleCheck } from './jobs/check.js';
import { createMailer } from './jobs/mailer.js';

export interface Stride {
  config: Config;
  store: Store;
  repo: Repository;
  router: Router;
  app: express.Express;
  logger: Logger;
  /** Bulk export jobs of this process: stopping it gives a running job back (close does it too). */
  exports: ExportRunner;
  /** SMART backend services: the token endpoint, and the token check when auth is required (config.auth). */
  auth: AuthService;
  /** The AuditEvent writer when auditing is on (config.auth.audit). */
  audit?: AuditLog;
  /** Scheduled jobs (src/jobs/): `stride serve` starts them; tests drive them with their own clock. */
  jobs: JobScheduler;
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: undefined }, pino.destination({ sync: false }));
}

export async function openStride(config: Config, logger: Logger = createLogger(config)): Promise<Stride> {
  // Bots first: a broken bot or policy file stops start-up before the database is opened (DESIGN §6).
  const bots = await openBots({ dirs: config.botsDirs, policiesDir: config.policiesDir, logger });
  const store = await openStore(config);
  await store.migrate();
  // Order matters: a client's paper EOB is checked and posted (stage, Tasks) before the ledger sums what it posts.
  const repo = new Repository({ store, validator: createValidator({ profilesDir: config.profilesDir, extensionDomains: config.extensionDomains }), searcher: createSearcher(), indexer: createIndexer(store.dialect), hook: new WriteHooks([bots, new ManualRemittances(), new SecondaryClaims(), new MoneyLedger(), new MaterializedViews(), new JobScheduleCheck()]) });
  const router = createRouter();
  const auth = await AuthService.open(config.auth, store);
  const audit = config.auth.audit ? new AuditLog(store, logger) : undefined;
  const app = createApp({ config, repo, router, logger, auth, audit });
  // Bulk Data $export jobs (src/analytics/export-runner.ts): stopped, and a running job given back, before the store closes.
  const exports = new ExportRunner({ store, config: config.export, logger });
  exports.start();
  const mailer = config.jobs.smtpUrl ? createMailer(config.jobs.smtpUrl) : undefined;
  const jobs = new JobScheduler({ repo, store, config, logger, mailer });
  const close = async (): Promise<void> => {
    await exports.stop();
    await jobs.stop();
    mailer?.close();
    // What is queued of the audit trail is written before the database closes.
    await audit?.close();
    await store.close();
  };
  return { config, store, repo, router, app, logger, exports, auth, audit, jobs, close };
}
