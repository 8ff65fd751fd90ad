/** The express handler for everything under the FHIR base: HTTP in, FhirRequest to the router, FhirResponse out. */
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Router } from '../fhir/router.js';
import type { Repository } from '../repo/repository.js';
import type { Config } from '../config.js';
import type { AuditedEntry, RequestContext } from '../fhir/types.js';
import { toFhirRequest } from './request.js';
import { sendBody, sendError, sendFhir } from './respond.js';
import { requestIdOf } from './log.js';
import type { AuthService } from '../auth/service.js';
import type { AuditLog } from '../auth/audit-log.js';
import type { Access } from '../auth/access.js';

export interface EndpointDeps {
  router: Router;
  repo: Repository;
  config: Config;
  logger: Logger;
  basePath: string;
  /** SMART backend services: when `required`, every request but /metadata needs a valid access token. */
  auth?: AuthService;
  /** Where every access is recorded as an AuditEvent (STRIDE_AUDIT). */
  audit?: AuditLog;
}

/** The CapabilityStatement is public (SMART App Launch 2.x: clients read it to find the security settings). */
const PUBLIC_PATH = /^\/metadata\/?(\?|$)/i;

export function baseUrlOf(req: Request, deps: EndpointDeps): string {
  return deps.config.baseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}${deps.basePath}`;
}

export function fhirEndpoint(deps: EndpointDeps) {
  return async function handleFhir(req: Request, res: Response): Promise<void> {
    const id = requestIdOf(res);
    const pretty = /[?&]_pretty=true(&|$)/.test(req.originalUrl);
    let access: Access | undefined;
    try {
      if (deps.auth?.required && !PUBLIC_PATH.test(req.originalUrl.slice(deps.basePath.length))) access = await deps.auth.authenticate(req.headers.authorization);
      const fhirReq = toFhirRequest(req, deps.basePath);
      let baseUrl: string | undefined;
      const ctx: RequestContext = {
        repo: deps.repo,
        config: deps.config,
        logger: deps.logger,
        requestId: id,
        access,
        ...(deps.audit ? { auditEntry: auditEntryOf(deps.audit, req, id, access) } : {}),
        // Computed on first use: a read never needs it, and the proxy-aware host lookup is not free.
        get baseUrl() {
          return (baseUrl ??= baseUrlOf(req, deps));
        },
      };
      const response = await deps.router.dispatch(fhirReq, ctx);
      if (response.body) await sendBody(res, { ...response, body: response.body });
      else await sendFhir(res, response, { pretty });
    } catch (err) {
      sendError(res, err, id, deps.logger, { pretty });
    } finally {
      if (deps.audit) recordAccess(deps.audit, req, res, deps.basePath, id, access);
    }
  };
}

/** Each entry of a batch or transaction, recorded as the caller's access like a request of its own. */
function auditEntryOf(audit: AuditLog, req: Request, requestId: string, access: Access | undefined): (entry: AuditedEntry) => void {
  return (entry) => audit.record({ time: Date.now(), ...entry, clientId: access?.clientId, patient: access?.patient, address: callerAddress(req), requestId });
}

/**
 * Where the request came from, as express's req.ip says it (trust proxy is on, app.ts: the leftmost
 * X-Forwarded-For address), read from the socket when there is no such header: the same answer, without parsing
 * headers on every audited request.
 */
function callerAddress(req: Request): string | undefined {
  return req.headers['x-forwarded-for'] === undefined ? req.socket.remoteAddress : req.ip;
}

function recordAccess(audit: AuditLog, req: Request, res: Response, basePath: string, requestId: string, access: Access | undefined): void {
  const url = req.originalUrl;
  const q = url.indexOf('?');
  const path = (q < 0 ? url : url.slice(0, q)).slice(basePath.length).replace(/^\/+|\/+$/g, '');
  audit.record({
    time: Date.now(),
    method: req.method,
    path,
    query: q < 0 ? '' : url.slice(q + 1),
    status: res.statusCode,
    clientId: access?.clientId,
    patient: access?.patient,
    address: callerAddress(req),
    requestId,
  });
}
