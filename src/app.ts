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
import type { AuthService } from './auth/service.js';
import type { AuditLog } from './auth/audit-log.js';
import { authEndpoints } from './http/auth-endpoints.js';

export interface AppDeps {
  config: Config;
  repo: Repository;
  router: Router;
  logger: Logger;
  auth?: AuthService;
  audit?: AuditLog;
}

export const FHIR_BASE_PATH = '/fhir';

export function createApp(deps: AppDeps): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.disable('etag');
  app.set('trust proxy', true);
  app.use(requestLogging(deps.logger));
  if (deps.auth) app.use(authEndpoints(deps.auth, deps.config, FHIR_BASE_PATH));
  // Every body is read as text and parsed by src/http/request.ts, which knows which media types each route takes.
  // One path-less middleware rather than routes or a mounted app.use('/fhir'): express runs it without path-to-regexp,
  // param decoding or prefix trimming, which were a third of a read's time in express. fhirPathError keeps what the
  // routes did with the URL: the base matched case-insensitively, an undecodable segment refused (URIError -> 400).
  const readBody = express.text({ type: () => true, limit: deps.config.bodyLimit });
  const endpoint = fhirEndpoint({ ...deps, basePath: FHIR_BASE_PATH });
  app.use((req: Request, res: Response, next: NextFunction) => {
    const error = fhirPathError(req.url);
    if (error !== undefined) return next(error === null ? undefined : error);
    if (req.method === 'GET' || req.method === 'HEAD') return endpoint(req, res);
    readBody(req, res, (err?: unknown) => (err ? next(err) : endpoint(req, res).catch(next)));
  });
  app.use((req: Request, res: Response) => {
    sendError(res, new OperationOutcomeError(notFound(`Nothing at ${req.path}: the FHIR base is ${FHIR_BASE_PATH}`)), requestIdOf(res), deps.logger, { pretty: false });
  });
  app.use((err: unknown, req: Request, res: Response, _next: NextFunction) => {
    sendError(res, bodyError(err, deps.config.bodyLimit), requestIdOf(res), deps.logger, { pretty: false });
  });
  return app;
}

/**
 * undefined when `url` is under the FHIR base (`/fhir`, `/fhir/...`, any letter case, as express routes match);
 * null when it is not; a URIError, as express's router raises it, when a path segment does not percent-decode.
 */
function fhirPathError(url: string): URIError | null | undefined {
  const n = FHIR_BASE_PATH.length;
  const next = url.charCodeAt(n);
  if (!(url.length === n || next === 47 || next === 63) || url.slice(0, n).toLowerCase() !== FHIR_BASE_PATH) return null; // '/', '?'
  const q = url.indexOf('?');
  const path = q < 0 ? url : url.slice(0, q);
  if (!path.includes('%')) return undefined;
  for (const segment of path.slice(n + 1).split('/')) {
    try {
      decodeURIComponent(segment);
    } catch {
      return new URIError(`Failed to decode param '${segment}'`);
    }
  }
  return undefined;
}

/** Errors raised while reading a body (body-parser) are the client's: map them to their 4xx. */
function bodyError(err: unknown, limit: number): unknown {
  const type = (err as { type?: string })?.type;
  if (type === 'entity.too.large') return new OperationOutcomeError(tooLarge(`The body is larger than this server's limit of ${limit} bytes`));
  if (type === 'charset.unsupported' || type === 'encoding.unsupported') return new OperationOutcomeError(unsupportedMediaType(`Unsupported body encoding: ${(err as Error).message}`));
  // Express's router refuses a URL it cannot decode (a URIError): the client's URL, not a server fault.
  if (err instanceof URIError) return new OperationOutcomeError(badRequest(`The URL is not valid: ${(err as Error).message}`));
  // Any other 400 from body-parser: an aborted upload, a wrong Content-Length, a body that does not inflate (gzip).
  if ((err as { status?: number })?.status === 400) return new OperationOutcomeError(badRequest(`The body could not be read: ${(err as Error).message}`));
  return err;
}
