/**
 * OperationOutcomes for every answer Stride gives. Each carries a key in `id`; src/http/respond.ts maps the key to
 * the HTTP status once (STYLE 3). Throw them as `new OperationOutcomeError(badRequest('...'))`.
 */
import type { OperationOutcome, OperationOutcomeIssue } from '@medplum/fhirtypes';

export const OUTCOME_STATUS = {
  ok: 200,
  created: 201,
  'not-modified': 304,
  'bad-request': 400,
  unauthorized: 401,
  forbidden: 403,
  'not-found': 404,
  'method-not-allowed': 405,
  'not-acceptable': 406,
  conflict: 409,
  gone: 410,
  'precondition-failed': 412,
  'too-large': 413,
  'unsupported-media-type': 415,
  unprocessable: 422,
  'too-many-requests': 429,
  'server-error': 500,
} as const;

export type OutcomeKey = keyof typeof OUTCOME_STATUS;

type IssueCode = OperationOutcomeIssue['code'];

export function outcome(key: OutcomeKey, severity: OperationOutcomeIssue['severity'], code: IssueCode, text: string, expression?: string): OperationOutcome {
  const issue: OperationOutcomeIssue = { severity, code, details: { text } };
  if (expression) issue.expression = [expression];
  return { resourceType: 'OperationOutcome', id: key, issue: [issue] };
}

export const allOk = (text = 'All OK'): OperationOutcome => outcome('ok', 'information', 'informational', text);
export const createdOk = (text: string): OperationOutcome => outcome('created', 'information', 'informational', text);
export const badRequest = (text: string, expression?: string): OperationOutcome => outcome('bad-request', 'error', 'invalid', text, expression);
export const unauthorized = (text: string): OperationOutcome => outcome('unauthorized', 'error', 'login', text);
export const forbidden = (text: string): OperationOutcome => outcome('forbidden', 'error', 'forbidden', text);
export const notFound = (text: string): OperationOutcome => outcome('not-found', 'error', 'not-found', text);
export const gone = (text: string): OperationOutcome => outcome('gone', 'error', 'deleted', text);
export const methodNotAllowed = (text: string): OperationOutcome => outcome('method-not-allowed', 'error', 'not-supported', text);
export const notAcceptable = (text: string): OperationOutcome => outcome('not-acceptable', 'error', 'not-supported', text);
export const conflict = (text: string): OperationOutcome => outcome('conflict', 'error', 'conflict', text);
export const preconditionFailed = (text: string): OperationOutcome => outcome('precondition-failed', 'error', 'conflict', text);
export const tooLarge = (text: string): OperationOutcome => outcome('too-large', 'error', 'too-costly', text);
export const unsupportedMediaType = (text: string): OperationOutcome => outcome('unsupported-media-type', 'error', 'not-supported', text);
export const unprocessable = (text: string, expression?: string): OperationOutcome => outcome('unprocessable', 'error', 'processing', text, expression);
export const serverError = (text: string): OperationOutcome => outcome('server-error', 'fatal', 'exception', text);
export const notModified = (): OperationOutcome => outcome('not-modified', 'information', 'informational', 'Not modified');

export function statusOf(value: OperationOutcome): number {
  const key = value.id as OutcomeKey | undefined;
  if (key && key in OUTCOME_STATUS) return OUTCOME_STATUS[key];
  // Outcomes from libraries (e.g. the validator) carry no key: an error about the input is a 400.
  return 400;
}
