/**
 * SearchParameter rules (R4 searchparameter.html): a parameter derived from another keeps its type and its bases
 * (derivedFrom), and its expression starts from the bases it declares.
 */
import type { OperationOutcomeIssue, SearchParameter } from '@medplum/fhirtypes';
import { issue } from '../issues.js';

export function checkSearchParameter(
  sp: SearchParameter,
  path: string,
  known: ReadonlyMap<string, SearchParameter>,
  isResourceType: (t: string) => boolean,
  out: OperationOutcomeIssue[],
): void {
  const bases: string[] = sp.base ?? [];
  const parent = sp.derivedFrom ? known.get(sp.derivedFrom.split('|')[0]) : undefined;
  if (parent) {
    if (sp.type && parent.type && sp.type !== parent.type) {
      out.push(issue('error', 'business-rule', `${path}.type: "${sp.type}" differs from the type "${parent.type}" of ${sp.derivedFrom}, which it derives from`, `${path}.type`));
    }
    const parentBases: string[] = parent.base ?? [];
    for (const b of bases) {
      if (!parentBases.includes(b) && !parentBases.includes('Resource')) {
        out.push(issue('error', 'business-rule', `${path}.base: ${b} is not a base of ${sp.derivedFrom} (${parentBases.join(', ')}), which it derives from`, `${path}.base`));
      }
    }
  }
  if (!sp.expression || bases.some((b) => b === 'Resource' || b === 'DomainResource')) return;
  const strangers = new Set<string>();
  for (const part of splitUnion(sp.expression)) {
    const head = /^\(?\s*([A-Z][A-Za-z]+)\b/.exec(part)?.[1];
    if (head && isResourceType(head) && !bases.includes(head)) strangers.add(head);
  }
  if (strangers.size) {
    const names = [...strangers].join(', ');
    out.push(issue('error', 'invalid', `${path}.expression: "${sp.expression}" starts from ${names}, not from its bases (${bases.join(', ')})`, `${path}.expression`));
  }
}

/** The top-level operands of `|` (unions inside parentheses stay together). */
function splitUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i];
    if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts.filter(Boolean);
}
