/** Writes a FhirResponse or an error to express: the one place an OperationOutcome becomes an HTTP status (STYLE 3). */
import type { Response } from 'express';
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { FhirResponse } from '../fhir/types.js';
import { serverError, statusOf } from '../fhir/outcomes.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface RespondOptions {
  pretty: boolean;
}

export function sendFhir(res: Response, response: FhirResponse, options: RespondOptions): void {
  res.status(response.status);
  if (response.headers) for (const [name, value] of Object.entries(response.headers)) res.setHeader(name, value);
  if (response.status === 204 || response.status === 304) {
    res.end();
    return;
  }
  let body: string | undefined;
  if (response.raw !== undefined) body = options.pretty ? JSON.stringify(JSON.parse(response.raw), null, 2) : response.raw;
  else if (response.resource) body = JSON.stringify(response.resource, null, options.pretty ? 2 : undefined);
  if (body === undefined) {
    res.end();
    return;
  }
  res.setHeader('Content-Type', FHIR_JSON);
  res.send(body);
}

/** Any failure as an OperationOutcome; an unexpected one is logged with the request id and named in the reply. */
export function sendError(res: Response, err: unknown, requestId: string, logger: Logger, options: RespondOptions): void {
  let outcome: OperationOutcome;
  if (err instanceof OperationOutcomeError) {
    outcome = err.outcome;
  } else {
    logger.error({ err, requestId }, 'unexpected error');
    outcome = serverError(`Unexpected server error; the log has the details under request id ${requestId}`);
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const { id: _key, ...body } = outcome;
  sendFhir(res, { status: statusOf(outcome), resource: body as OperationOutcome }, options);
}
