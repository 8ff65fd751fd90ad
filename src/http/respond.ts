/** Writes a FhirResponse or an error to express: the one place an OperationOutcome becomes an HTTP status (STYLE 3). */
import type { Response } from 'express';
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcome } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { FhirResponse } from '../fhir/types.js';
import { serverError, statusOf } from '../fhir/outcomes.js';
import { MethodNotAllowedError } from '../fhir/router.js';
import { UnauthorizedError } from '../auth/service.js';
import { parseJsonKeepingDecimals, stringifyKeepingDecimals } from '../fhir/json-decimals.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

export interface RespondOptions {
  pretty: boolean;
}

/**
 * Writes status, headers and body in one writeHead + end: express's res.send adds nothing a FHIR reply needs (no
 * generated ETag, no freshness check: read.ts decides 304s itself) and costs time on every read.
 */
export function sendFhir(res: Response, response: FhirResponse, options: RespondOptions): void | Promise<void> {
  if (response.stream) return sendStream(res, response);
  const headers: Record<string, string | number> = { ...response.headers };
  let body: string | undefined;
  if (response.status !== 204 && response.status !== 304) {
    if (response.raw !== undefined) body = options.pretty ? stringifyKeepingDecimals(parseJsonKeepingDecimals(response.raw), 2) : response.raw;
    else if (response.resource) body = stringifyKeepingDecimals(response.resource, options.pretty ? 2 : undefined);
  }
  if (body !== undefined) {
    headers['Content-Type'] = FHIR_JSON;
    headers['Content-Length'] = Buffer.byteLength(body);
  } else if (response.status !== 204 && response.status !== 304) {
    headers['Content-Length'] = 0;
  }
  res.writeHead(response.status, headers);
  res.end(body);
}

/**
 * A body that is not a FHIR resource (FhirResponse.body): text in one write; chunks as they come (chunked transfer
 * encoding), waiting for the socket to drain so that a large file is never held in memory. A failure after the
 * headers went out can only end the connection: the client sees a truncated body, not a complete-looking one.
 */
export async function sendBody(res: Response, response: FhirResponse & { body: NonNullable<FhirResponse['body']> }): Promise<void> {
  const headers: Record<string, string | number> = { ...response.headers, 'Content-Type': response.body.contentType };
  const { data } = response.body;
  if (typeof data === 'string') {
    headers['Content-Length'] = Buffer.byteLength(data);
    res.writeHead(response.status, headers);
    res.end(data);
    return;
  }
  res.writeHead(response.status, headers);
  try {
    for await (const chunk of data) {
      if (res.destroyed) return;
      if (!res.write(chunk)) await new Promise((resolve) => res.once('drain', resolve).once('close', resolve));
    }
    res.end();
  } catch (err) {
    res.destroy(err as Error);
  }
}

/**
 * A streamed body: chunked, each chunk written when the client has taken the previous ones (so a producer that awaits
 * this never races ahead of a slow client). A client that goes away stops the producer; a producer that fails after
 * the status was sent aborts the connection, so the client sees a broken transfer rather than a short answer.
 */
async function sendStream(res: Response, response: FhirResponse): Promise<void> {
  const body = response.stream as NonNullable<FhirResponse['stream']>;
  res.writeHead(response.status, { ...response.headers, 'Content-Type': body.contentType });
  try {
    for await (const chunk of body.chunks) {
      if (res.destroyed) break;
      if (!res.write(chunk)) await drained(res);
    }
  } catch (err) {
    res.destroy();
    throw err;
  }
  res.end();
}

function drained(res: Response): Promise<void> {
  return new Promise((resolve) => {
    const done = (): void => {
      res.off('drain', done);
      res.off('close', done);
      resolve();
    };
    res.on('drain', done);
    res.on('close', done);
  });
}

/** Any failure as an OperationOutcome; an unexpected one is logged with the request id and named in the reply. */
export function sendError(res: Response, err: unknown, requestId: string, logger: Logger, options: RespondOptions): void {
  let outcome: OperationOutcome;
  if (err instanceof OperationOutcomeError) {
    outcome = err.outcome;
  } else {
    // reqId, as on the request's own log line, so that one search finds both.
    logger.error({ err, reqId: requestId }, 'unexpected error');
    outcome = serverError(`Unexpected server error; the log has the details under request id ${requestId}`);
  }
  if (res.headersSent) {
    res.end();
    return;
  }
  const { id: _key, ...body } = outcome;
  // RFC 6750 §3: a 401 names the scheme (and what was wrong with the token) in WWW-Authenticate.
  const headers: Record<string, string> | undefined = err instanceof MethodNotAllowedError ? { Allow: err.allow.join(', ') } : err instanceof UnauthorizedError ? { 'WWW-Authenticate': err.challenge } : undefined;
  sendFhir(res, { status: statusOf(outcome), resource: body as OperationOutcome, headers }, options);
}
