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

export function logWhenFinished(logger: Logger, req: Request, res: Response, id: string): void {
  const start = performance.now();
  res.on('finish', () => {
    const durationMs = Math.round((performance.now() - start) * 100) / 100;
    logger.info({ reqId: id, method: req.method, path: req.originalUrl, status: res.statusCode, durationMs }, 'request');
  });
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
