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
