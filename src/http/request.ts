/** express Request -> FhirRequest (the only place HTTP requests are read). */
import type { Request } from 'express';
import { OperationOutcomeError } from '@medplum/core';
import type { FhirRequest, HttpMethod } from '../fhir/types.js';
import { badRequest, notAcceptable, unsupportedMediaType } from '../fhir/outcomes.js';
import { MAX_JSON_DEPTH, nestsDeeper } from '../fhir/body.js';
import { choosesOwnFormat } from '../fhir/operations/registry.js';
import { newQuery, parseQueryString } from '../fhir/query.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

const JSON_TYPES = ['application/fhir+json', 'application/json', 'application/json-patch+json', 'text/json'];
const FORM = 'application/x-www-form-urlencoded';
/** X12 files: taken as text by POST $process-x12, and served raw by a read of a Binary of that type. */
const X12 = 'application/edi-x12';
const FORMAT_OK = /^(json|application\/(fhir\+)?json|text\/json)(;.*)?$/i;
export { MAX_JSON_DEPTH } from '../fhir/body.js';

/** `basePath` (e.g. /fhir) is stripped from the URL to give the FHIR path. */
export function toFhirRequest(req: Request, basePath: string): FhirRequest {
  const url = req.originalUrl ?? req.url;
  const q = url.indexOf('?');
  const query = q >= 0 ? parseQueryString(url.slice(q + 1)) : newQuery();
  const path = (q >= 0 ? url.slice(basePath.length, q) : url.slice(basePath.length)).replace(/^\/+|\/+$/g, '');
  // An operation with output formats of its own (ViewDefinition/$run: csv, parquet ...) reads _format itself.
  if (!choosesOwnFormat(path)) checkFormat(query._format?.[0], req.headers.accept);
  const contentType = req.headers['content-type'];
  return {
    method: req.method as HttpMethod,
    path,
    query,
    headers: {
      ifMatch: header(req, 'if-match'),
      ifNoneMatch: header(req, 'if-none-match'),
      ifNoneExist: header(req, 'if-none-exist'),
      ifModifiedSince: header(req, 'if-modified-since'),
      prefer: header(req, 'prefer'),
      contentType,
      accept: header(req, 'accept'),
    },
    ...readBody(req, contentType),
    rawBody: typeof req.body === 'string' && req.body !== '' ? req.body : undefined,
  };
}

/** The body: JSON parsed; an X12 file only for the operation that takes one, as text (rawBody) and nothing parsed. */
function readBody(req: Request, contentType: string | undefined): Pick<FhirRequest, 'body'> {
  const mediaType = (contentType ?? '').split(';')[0]!.trim().toLowerCase();
  if (mediaType === X12 && typeof req.body === 'string' && req.body !== '') {
    if (req.method === 'POST' && /\$process-x12(\?|$)/.test(req.originalUrl)) return {};
    throw new OperationOutcomeError(unsupportedMediaType(`Content-Type ${X12} is only taken by POST [base]/$process-x12: send application/fhir+json`));
  }
  return { body: parseBody(req, contentType) };
}

function header(req: Request, name: string): string | undefined {
  const value = req.headers[name];
  return Array.isArray(value) ? value[0] : value;
}

/** JSON is the only format served: anything else asked for by _format or Accept is a 406. */
function checkFormat(format: string | undefined, accept: string | undefined): void {
  if (format !== undefined && !FORMAT_OK.test(format.trim())) {
    throw new OperationOutcomeError(notAcceptable(`_format=${format} is not served: Stride speaks JSON (_format=json)`));
  }
  // Bulk export files are NDJSON (matched by "json") or Parquet (src/analytics/export-parquet.ts); an X12 file is read
  // raw from its Binary (read.ts).
  if (format === undefined && accept && !/json|parquet|edi-x12|\*\/\*|application\/\*/i.test(accept)) {
    throw new OperationOutcomeError(notAcceptable(`Accept: ${accept} is not served: Stride speaks application/fhir+json`));
  }
}

function parseBody(req: Request, contentType: string | undefined): unknown {
  const text = typeof req.body === 'string' ? req.body : undefined;
  if (text === undefined || text === '') return undefined;
  const mediaType = (contentType ?? 'application/fhir+json').split(';')[0].trim().toLowerCase();
  if (mediaType === FORM) {
    if (req.method === 'POST' && /\/_search(\?|$)/.test(req.originalUrl)) return text;
    throw new OperationOutcomeError(unsupportedMediaType(`Content-Type ${FORM} is only taken by POST [type]/_search: send application/fhir+json`));
  }
  if (!JSON_TYPES.includes(mediaType)) {
    throw new OperationOutcomeError(unsupportedMediaType(`Content-Type ${mediaType} is not accepted: send application/fhir+json`));
  }
  let value: unknown;
  try {
    // A decimal keeps the text it was written with ("1.50" stays 1.50 when stored and read: src/fhir/json-decimals.ts).
    value = parseJsonKeepingDecimals(text);
  } catch (err) {
    throw new OperationOutcomeError(badRequest(`The body is not valid JSON: ${(err as Error).message}`));
  }
  // Each level takes two characters at least: a short body cannot be too deep, and skips the walk.
  if (text.length > 2 * MAX_JSON_DEPTH && nestsDeeper(value, MAX_JSON_DEPTH)) {
    throw new OperationOutcomeError(badRequest(`The body nests objects and arrays more than ${MAX_JSON_DEPTH} levels deep`));
  }
  return value;
}
