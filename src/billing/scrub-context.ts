/** What the claim scrubber reads besides the Claim, and the shape of its findings (DOMAIN-97116 §D). */
import type { FeeSchedule } from './fee-schedule.js';
import type { BillingFinding, OpenFinding } from './findings.js';
import type { ResourceLookup } from './session.js';
import type { PtpPair } from './types.js';

export interface ScrubContext {
  readonly resolve: ResourceLookup;
  readonly fees: FeeSchedule;
  /**
   * Units per `YYYY-MM-DD|code` that the session's minutes allow (billing's computeLines). Omit for a posted Claim
   * whose session cannot be read: then units are only checked to be whole and > 0.
   */
  readonly sessionUnits?: ReadonlyMap<string, number> | null;
  /** Open documentation findings (DetectedIssues) of the session. */
  readonly openFindings: readonly OpenFinding[];
  readonly ptpPairs?: readonly PtpPair[];
}

export const SCRUB_SOURCE = 'DOMAIN-97116 §D; ASC X12 837P 005010X222A1';

export function scrubFinding(ruleId: string, message: string, expression: string, implicated: readonly (string | undefined)[] = []): BillingFinding {
  const refs = implicated.filter((r): r is string => !!r);
  return { ruleId, severity: 'error', message, expression: [expression], source: SCRUB_SOURCE, implicated: refs };
}
