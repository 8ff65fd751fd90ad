/** Request ids and one structured log line per request (id, method, path, status, duration). */
import { randomUUID } from 'node:crypto';
import type { NextFunction, Request, Response } from 'express';
import type { Logger } from 'pino';

const CLIENT_ID = /^[A-Za-z0-9\-_.:]{1,64}$/;

/** The client's X-Request-Id when it is a sane token, else a new one; echoed in the response. */
export function requestId(req: Request): string {
  const given = req.headers['x-request-id'];
  return typeof given === 'string' && CLIENT_ID.test(given) ? given : randomUUID();
}

/**
 * One line when the response is sent, or when the client goes away first (`aborted: true`). The query string is
 * left out, only its parameter names are logged: search values are patient data (a name, a birth date) and logs
 * are not the place for them.
 */
export function logWhenFinished(logger: Logger, req: Request, res: Response, id: string): void {
  const start = performance.now();
  let logged = false;
  const done = (): void => {
    if (logged) return;
    logged = true;
    const durationMs = Math.round((performance.now() - start) * 100) / 100;
    const url = req.originalUrl;
    const q = url.indexOf('?');
    const line: Record<string, unknown> = { reqId: id, method: req.method, path: q < 0 ? url : url.slice(0, q), status: res.statusCode, durationMs };
    if (q >= 0) line.params = [...new Set(new URLSearchParams(url.slice(q + 1)).keys())];
    // Gone before the answer was sent, or while its body was still arriving.
    if (!res.writableFinished || req.readableAborted) line.aborted = true;
    logger.info(line, 'request');
  };
  res.on('finish', done);
  res.on('close', done);
}

/** First middleware: gives the request its id (X-Request-Id on the response) and logs it when it finishes. */
export function requestLogging(logger: Logger) {
  return function logRequest(req: Request, res: Response, next: NextFunction): void {
    const id = requestId(req);
    res.setHeader('X-Request-Id', id);
    logWhenFinished(logger, req, res, id);
    next();
  };
}

export function requestIdOf(res: Response): string {
  return String(res.getHeader('X-Request-Id') ?? '');
}
