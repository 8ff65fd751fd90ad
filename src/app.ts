/** createApp(deps) -> the express app; tests use it without listening. */
import express, { type NextFunction, type Request, type Response } from 'express';
import { OperationOutcomeError } from '@medplum/core';
import type { Logger } from 'pino';
import type { Config } from './config.js';
import type { Repository } from './repo/repository.js';
import type { Router } from './fhir/router.js';
import { fhirEndpoint } from './http/fhir-endpoint.js';
import { sendError } from './http/respond.js';
import { requestIdOf, requestLogging } from './http/log.js';
import { badRequest, notFound, tooLarge, unsupportedMediaType } from './fhir/outcomes.js';

export interface AppDeps {
  config: Config;
  repo: Repository;
  router: Router;
  logger: Logger;
}

export const FHIR_BASE_PATH = '/fhir';

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', true);
  app.use(requestLogging(deps.logger));
  // Every body is read as text and parsed by src/http/request.ts, which knows which media types each route takes.
  // A route rather than a mounted middleware: express's prefix trimming for app.use costs ~10% of a read.
  const fhirPaths = [FHIR_BASE_PATH, `${FHIR_BASE_PATH}/*path`];
  const readBody = express.text({ type: () => true, limit: deps.config.bodyLimit });
  app.all(fhirPaths, (req: Request, res: Response, next: NextFunction) => (req.method === 'GET' || req.method === 'HEAD' ? next() : readBody(req, res, next)));
  app.all(fhirPaths, fhirEndpoint({ ...deps, basePath: FHIR_BASE_PATH }));
  app.use((req: Request, res: Response) => {
    sendError(res, new OperationOutcomeError(notFound(`Nothing at ${req.path}: the FHIR base is ${FHIR_BASE_PATH}`)), requestIdOf(res), deps.logger, { pretty: false });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    sendError(res, bodyError(err, deps.config.bodyLimit), requestIdOf(res), deps.logger, { pretty: false });
  });
  return app;
}

/** Errors raised while reading a body (body-parser) are the client's: map them to their 4xx. */
function bodyError(err: unknown, limit: number): unknown {
  const type = (err as { type?: string })?.type;
  if (type === 'entity.too.large') return new OperationOutcomeError(tooLarge(`The body is larger than this server's limit of ${limit} bytes`));
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return new OperationOutcomeError(unsupportedMediaType(`Unsupported body encoding: ${(err as Error).message}`));
  if (type === 'request.aborted' || type === 'request.size.invalid' || type === 'stream.encoding.set') return new OperationOutcomeError(badRequest(`The body could not be read: ${(err as Error).message}`));
  // Express's router refuses a URL it cannot decode (status 400): the client's URL, not a server fault.
  if (err instanceof URIError || (err as { status?: number })?.status === 400) return new OperationOutcomeError(badRequest(`The URL is not valid: ${(err as Error).message}`));
  return err;
}
