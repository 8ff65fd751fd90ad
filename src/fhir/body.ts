/** Checks that a request body is the resource the URL says it is (R4 http.html: 400 on mismatch). */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { badRequest } from './outcomes.js';

export function requireResource(body: unknown, expectedType?: string): Resource {
  if (body === undefined || body === null || body === '') {
    throw new OperationOutcomeError(badRequest('The request has no body: send a FHIR resource as JSON'));
  }
  if (typeof body !== 'object' || Array.isArray(body)) {
    throw new OperationOutcomeError(badRequest('The body is not a FHIR resource: expected a JSON object with "resourceType"'));
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType === undefined) {
    throw new OperationOutcomeError(badRequest('The body is not a FHIR resource: "resourceType" is missing', 'resourceType'));
  }
  if (typeof resourceType !== 'string' || resourceType === '') {
    throw new OperationOutcomeError(badRequest(`The body is not a FHIR resource: "resourceType" must name a type, e.g. "Patient", not ${JSON.stringify(resourceType)}`, 'resourceType'));
  }
  if (expectedType && resourceType !== expectedType) {
    throw new OperationOutcomeError(badRequest(`The body is a ${resourceType} but the URL is for ${expectedType}`, 'resourceType'));
  }
  return body as Resource;
}

/**
 * Deepest JSON nesting (objects and arrays) accepted. A transaction Bundle holding a deeply nested Questionnaire
 * stays far below it; thousands of levels would exhaust the stack of every recursive walk behind the parser
 * (validation, JSON.stringify) and turn client input into a 500.
 */
export const MAX_JSON_DEPTH = 100;

/** Whether parsed JSON nests objects and arrays more than `room` levels; stops as soon as it does. */
export function nestsDeeper(value: unknown, room: number): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (room === 0) return true;
  if (Array.isArray(value)) {
    for (const item of value) if (nestsDeeper(item, room - 1)) return true;
    return false;
  }
  for (const key in value) if (nestsDeeper((value as Record<string, unknown>)[key], room - 1)) return true;
  return false;
}

/**
 * `target[key] = value` as JSON.parse would write it: an own data property even for `__proto__`, whose assignment
 * would instead replace the object's prototype and drop the member (a client's member must reach the validator to be
 * refused, never vanish on the way; issue 25).
 */
export function setMember(target: Record<string, unknown>, key: string, value: unknown): void {
  if (key === '__proto__') Object.defineProperty(target, key, { value, enumerable: true, writable: true, configurable: true });
  else target[key] = value;
}
