/** The HTTP-free shapes that FHIR handlers take and return (STYLE 2): express stays in src/http/. */
import type { OperationOutcome, Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import type { Config } from '../config.js';
import type { Logger } from 'pino';
import type { Access } from '../auth/access.js';

export type HttpMethod = 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';

export interface FhirRequest {
  method: HttpMethod;
  /** Path below the FHIR base, without leading slash or query: `Patient/1/_history/2`. */
  path: string;
  /** Query parameters; a repeated name has several values. */
  query: Record<string, string[]>;
  headers: FhirRequestHeaders;
  /** Parsed JSON body, if any. */
  body?: unknown;
  /**
   * The body's text as sent: for an operation that needs what JSON.parse loses (a decimal's written precision), or
   * takes a body that is not JSON (an X12 file posted to $process-x12 as application/edi-x12: `body` is then unset).
   */
  rawBody?: string;
}

export interface FhirRequestHeaders {
  ifMatch?: string;
  ifNoneMatch?: string;
  ifNoneExist?: string;
  ifModifiedSince?: string;
  prefer?: string;
  contentType?: string;
  accept?: string;
}

export interface FhirResponse {
  status: number;
  /** A resource to return (serialised by the HTTP layer with _pretty/_summary/_elements). */
  resource?: Resource;
  /** Already serialised JSON of the stored resource: the fast path for read. */
  raw?: string;
  /** ETag, Location, Last-Modified ... */
  headers?: Record<string, string>;
  /** Issues to report with `Prefer: return=OperationOutcome` (or in a transaction-response entry). */
  outcome?: OperationOutcome;
  /** A body that is not a FHIR resource (a bulk export's manifest or files), with its media type; chunks are streamed. */
  body?: { contentType: string; data: string | AsyncIterable<Buffer> };
  /** A body written as it is produced (an operation's large output, e.g. ViewDefinition/$run): not a resource. */
  stream?: FhirStreamBody;
}

export interface FhirStreamBody {
  contentType: string;
  /** The body's chunks in order; an error after the first chunk aborts the connection (the status is already sent). */
  chunks: AsyncIterable<string | Uint8Array>;
}

export interface RequestContext {
  repo: Repository;
  config: Config;
  logger: Logger;
  requestId: string;
  /** Absolute base URL, e.g. http://localhost:8080/fhir, for Location headers and links. */
  baseUrl: string;
  /** The caller, from a verified access token, when auth is on (src/auth/guard.ts checks it); absent when it is off. */
  access?: Access;
  /**
   * Records one entry of a batch or transaction Bundle as an access of its own (the audit trail, issue 23: each entry
   * is an access, with its outcome); absent when accesses are not audited.
   */
  auditEntry?: (entry: AuditedEntry) => void;
}

/** A Bundle entry's request, as the audit trail records it. */
export interface AuditedEntry {
  method: string;
  /** Path below the base, without the query. */
  path: string;
  query: string;
  /** The entry's HTTP status (its response.status, or the whole transaction's when it failed). */
  status: number;
}

export type FhirHandler = (req: FhirRequest, ctx: RequestContext, params: Record<string, string>) => Promise<FhirResponse>;
