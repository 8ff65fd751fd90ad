/**
 * The HTTP side of SMART Backend Services: `GET [base]/.well-known/smart-configuration` (SMART App Launch 2.x
 * conformance.html) and `POST /auth/token` (form-encoded, backend-services.html), and the extraction of the bearer
 * token of a FHIR request. One path-less middleware that looks at the URL's start, so a FHIR request pays two string
 * comparisons, not a route match.
 */
import express, { type NextFunction, type Request, type Response } from 'express';
import type { AuthService } from '../auth/service.js';
import type { Config } from '../config.js';
import { smartConfiguration } from '../auth/smart-configuration.js';

export const TOKEN_PATH = '/auth/token';
const WELL_KNOWN = '/.well-known/smart-configuration';

function originOf(req: Request, config: Config): string {
  if (config.baseUrl) return new URL(config.baseUrl).origin;
  return `${req.protocol}://${req.get('host') ?? 'localhost'}`;
}

function sendJson(res: Response, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  // RFC 6749 §5.1: token responses are never cached.
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Content-Length': Buffer.byteLength(text), 'Cache-Control': 'no-store', Pragma: 'no-cache' });
  res.end(text);
}

export function authEndpoints(auth: AuthService, config: Config, basePath: string) {
  const readForm = express.text({ type: () => true, limit: 64 * 1024 });
  const wellKnown = [basePath + WELL_KNOWN, WELL_KNOWN];
  return function handleAuth(req: Request, res: Response, next: NextFunction): void {
    const url = req.url;
    if (!url.startsWith(TOKEN_PATH) && !url.includes(WELL_KNOWN)) return next();
    const path = url.split('?')[0]!.toLowerCase();
    const origin = originOf(req, config);
    if (wellKnown.includes(path) && (req.method === 'GET' || req.method === 'HEAD')) {
      return sendJson(res, 200, smartConfiguration(origin + TOKEN_PATH));
    }
    if (path !== TOKEN_PATH) return next();
    if (req.method !== 'POST') return sendJson(res, 405, { error: 'invalid_request', error_description: 'POST the token request (application/x-www-form-urlencoded)' });
    readForm(req, res, (err?: unknown) => {
      if (err) return sendJson(res, 400, { error: 'invalid_request', error_description: 'the body could not be read' });
      const type = String(req.headers['content-type'] ?? '').split(';')[0]!.trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') return sendJson(res, 400, { error: 'invalid_request', error_description: 'the token request must be application/x-www-form-urlencoded' });
      auth.token(new URLSearchParams(typeof req.body === 'string' ? req.body : ''), origin + TOKEN_PATH).then(
        (reply) => sendJson(res, reply.status, reply.body),
        (e: unknown) => next(e),
      );
    });
  };
}
