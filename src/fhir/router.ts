/**
 * Maps a FhirRequest to its interaction handler (no HTTP here). Used by the HTTP layer and by batch/transaction
 * entries alike, so a Bundle entry behaves exactly as the same request sent alone.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { FhirHandler, FhirRequest, FhirResponse, HttpMethod, RequestContext } from './types.js';
import { badRequest, methodNotAllowed, notFound } from './outcomes.js';
import { present } from './present.js';
import { authorizeRoute, refuseAuditEventWrite, WRITE_PATTERNS } from '../auth/guard.js';

type Segment = { literal: string } | { param: 'type' | 'id' | 'vid' | 'op' | 'compartmentType' };

export interface Route {
  method: HttpMethod;
  pattern: string;
  handler: FhirHandler;
  segments: Segment[];
}

function parsePattern(pattern: string): Segment[] {
  if (pattern === '') return [];
  return pattern.split('/').map((s) => (s.startsWith(':') ? { param: s.slice(1) as 'type' } : { literal: s }));
}

function decodeSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new OperationOutcomeError(badRequest(`The URL segment "${segment}" is not valid percent-encoding`));
  }
}

/** A 405 that knows the methods the path does take: RFC 9110 §15.5.6 wants them in an Allow header. */
export class MethodNotAllowedError extends OperationOutcomeError {
  constructor(
    readonly allow: readonly string[],
    text: string,
  ) {
    super(methodNotAllowed(text));
  }
}

export class Router {
  private readonly routes: Route[] = [];

  constructor(private readonly isResourceType: (type: string) => boolean) {}

  add(method: HttpMethod, pattern: string, handler: FhirHandler): this {
    this.routes.push({ method, pattern, handler, segments: parsePattern(pattern) });
    return this;
  }

  /** The interactions registered, for the CapabilityStatement. */
  list(): readonly Route[] {
    return this.routes;
  }

  async dispatch(req: FhirRequest, ctx: RequestContext): Promise<FhirResponse> {
    const parts = req.path === '' ? [] : req.path.split('/').map(decodeSegment);
    const method = req.method === 'HEAD' ? 'GET' : req.method;
    let allowed: Set<string> | undefined; // built only on the way to a 405
    let unknownType: string | undefined;
    for (const route of this.routes) {
      const params = this.match(route.segments, parts);
      if (!params) continue;
      if (params.type && !this.isResourceType(params.type)) {
        unknownType = params.type;
        continue;
      }
      if (route.method === method) {
        if (params.type === 'AuditEvent' && WRITE_PATTERNS.has(route.pattern)) refuseAuditEventWrite(method, params.type);
        if (ctx.access) await authorizeRoute(method, route.pattern, params, req, ctx);
        return present(req, await route.handler(req, ctx, params));
      }
      allowed ??= new Set();
      allowed.add(route.method);
      if (route.method === 'GET') allowed.add('HEAD');
    }
    if (allowed) {
      const allow = [...allowed].sort();
      throw new MethodNotAllowedError(allow, `${req.method} is not allowed on /${req.path}; it takes ${allow.join(', ')}`);
    }
    if (unknownType) throw new OperationOutcomeError(notFound(`Unknown resource type "${unknownType}"`));
    throw new OperationOutcomeError(notFound(`No FHIR endpoint at /${req.path}`));
  }

  private match(segments: Segment[], parts: string[]): Record<string, string> | undefined {
    if (segments.length !== parts.length) return undefined;
    const params: Record<string, string> = {};
    for (let i = 0; i < segments.length; i++) {
      const seg = segments[i];
      const part = parts[i];
      if ('literal' in seg) {
        if (seg.literal !== part) return undefined;
      } else if (seg.param === 'op') {
        if (!part.startsWith('$')) return undefined;
        params.op = part.slice(1);
      } else {
        if (part === '' || part.startsWith('$') || (part.startsWith('_') && seg.param !== 'vid')) return undefined;
        params[seg.param] = part;
      }
    }
    return params;
  }
}
