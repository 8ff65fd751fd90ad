/** Building OperationOutcome issues: every issue has severity, code, a message a person can act on, and expression. */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';

export type Severity = OperationOutcomeIssue['severity'];
export type IssueCode = OperationOutcomeIssue['code'];

export function issue(severity: Severity, code: IssueCode, text: string, expression: string): OperationOutcomeIssue {
  return { severity, code, details: { text }, expression: [expression] };
}

export function isError(i: OperationOutcomeIssue): boolean {
  return i.severity === 'error' || i.severity === 'fatal';
}
