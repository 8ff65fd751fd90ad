/**
 * What the billing code and the claim scrubber report. A finding is data: the billing bot turns each into a
 * DetectedIssue and an OperationOutcome issue; `error` keeps the Claim in draft, `warning` informs.
 */
export type FindingSeverity = 'error' | 'warning';

export interface BillingFinding {
  /** Stable id, e.g. `scrub-npi-billing`, `billing-session-cap`: DetectedIssue code and de-duplication key. */
  readonly ruleId: string;
  readonly severity: FindingSeverity;
  /** What is wrong and what to do about it, for a biller or a therapist. */
  readonly message: string;
  /** FHIRPath of the element checked (on the Claim unless it names another resource type). */
  readonly expression: readonly string[];
  /** Where the rule comes from (manual section, implementation guide). */
  readonly source: string;
  /** References of the resources the finding is about (DetectedIssue.implicated). */
  readonly implicated?: readonly string[];
}

/** An open finding of the documentation bot for the session (a DetectedIssue), as the scrubber needs it. */
export interface OpenFinding {
  readonly ruleId: string;
  readonly severity: FindingSeverity;
  readonly message: string;
  readonly reference?: string;
}

export function hasErrorFindings(findings: readonly BillingFinding[]): boolean {
  return findings.some((f) => f.severity === 'error');
}
