/** The express handler for everything under the FHIR base: HTTP in, FhirRequest to the router, FhirResponse out. */
import type { Request, Response } from 'express';
import type { Logger } from 'pino';
import type { Router } from '../fhir/router.js';
import type { Repository } from '../repo/repository.js';
import type { Config } from '../config.js';
import type { RequestContext } from '../fhir/types.js';
import { toFhirRequest } from './request.js';
import { sendBody, sendError, sendFhir } from './respond.js';
import { requestIdOf } from './log.js';

export interface EndpointDeps {
  router: Router;
  repo: Repository;
  config: Config;
  logger: Logger;
  basePath: string;
}

export function baseUrlOf(req: Request, deps: EndpointDeps): string {
  return deps.config.baseUrl ?? `${req.protocol}://${req.get('host') ?? 'localhost'}${deps.basePath}`;
}

export function fhirEndpoint(deps: EndpointDeps) {
  return async function handleFhir(req: Request, res: Response): Promise<void> {
    const id = requestIdOf(res);
    const pretty = /[?&]_pretty=true(&|$)/.test(req.originalUrl);
    try {
      const fhirReq = toFhirRequest(req, deps.basePath);
      let baseUrl: string | undefined;
      const ctx: RequestContext = {
        repo: deps.repo,
        config: deps.config,
        logger: deps.logger,
        requestId: id,
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
    }
  };
}
