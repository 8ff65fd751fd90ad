/** Opens everything a Stride process needs (storage, repository, router, app) from a Config. */
import pino, { type Logger } from 'pino';
import type { Config } from './config.js';
import type { Store } from './storage/store.js';
import { openStore } from './storage/open.js';
import { Repository } from './repo/repository.js';
import { createValidator } from './validation/validator.js';
import { createScanSearcher } from './search/scan-searcher.js';
import { createRouter } from './fhir/routes.js';
import type { Router } from './fhir/router.js';
import { createApp } from './app.js';
import type express from 'express';

export interface Stride {
  config: Config;
  store: Store;
  repo: Repository;
  router: Router;
  app: express.Express;
  logger: Logger;
  close(): Promise<void>;
}

export function createLogger(config: Config): Logger {
  return pino({ level: config.logLevel, base: undefined }, pino.destination({ sync: false }));
}

export async function openStride(config: Config, logger: Logger = createLogger(config)): Promise<Stride> {
  const store = await openStore(config);
  await store.migrate();
  const repo = new Repository({ store, validator: createValidator(), searcher: createScanSearcher() });
  const router = createRouter();
  const app = createApp({ config, repo, router, logger });
  return { config, store, repo, router, app, logger, close: () => store.close() };
}
