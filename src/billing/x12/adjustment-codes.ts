/**
 * Texts of the claim adjustment reason codes (CARC) and remittance advice remark codes (RARC) Stride's work queue
 * quotes. Only the codes Stride's tests and the shared samples use are listed; any other code is named with a pointer
 * to the list. Sources: X12 "Claim Adjustment Reason Codes" (https://x12.org/codes/claim-adjustment-reason-codes) and
 * "Remittance Advice Remark Codes" (https://x12.org/codes/remittance-advice-remark-codes), the lists CMS points to
 * (Medicare Claims Processing Manual, Pub 100-04 ch. 22 §60). Codes 42 and A2 are deactivated on the current list
 * and still appear in older files (the LinuxForHealth samples).
 */
import type { AdjustmentGroup } from './remittance.js';

export const CARC_SYSTEM = 'https://x12.org/codes/claim-adjustment-reason-codes';
export const RARC_SYSTEM = 'https://x12.org/codes/remittance-advice-remark-codes';

export const CARC: Readonly<Record<string, string>> = {
  '1': 'Deductible Amount',
  '2': 'Coinsurance Amount',
  '3': 'Co-payment Amount',
  '23': 'The impact of prior payer(s) adjudication including payments and/or adjustments.',
  '42': 'Charges exceed our fee schedule or maximum allowable amount. (deactivated)',
  '45': 'Charge exceeds fee schedule/maximum allowable or contracted/legislated fee arrangement.',
  '50': "These are non-covered services because this is not deemed a 'medical necessity' by the payer.",
  '94': 'Processed in Excess of charges.',
  '97': 'The benefit for this service is included in the payment/allowance for another service/procedure that has already been adjudicated.',
  '151': 'Payment adjusted because the payer deems the information submitted does not support this many/frequency of services.',
  '253': 'Sequestration - reduction in federal payment',
  A2: 'Contractual adjustment. (deactivated)',
};

export const RARC: Readonly<Record<string, string>> = {
  M86: 'Service denied because payment already made for same/similar procedure within set time frame.',
  N130: 'Consult plan benefit documents/guidelines for information about restrictions for this service.',
};

/** CAS01 group codes (005010X221A1). */
export const GROUPS: Readonly<Record<AdjustmentGroup, string>> = {
  CO: 'Contractual obligation',
  PR: 'Patient responsibility',
  OA: 'Other adjustment',
  PI: 'Payer initiated reduction',
  CR: 'Correction and reversal',
};

/**
 * Payer adjustments that are the payer's ordinary pricing, not a reduction to work: the fee schedule (45, and the
 * deactivated 42 and A2), the prior payer's part on a secondary claim (23), sequestration (253), and 94. Any other
 * CO/OA/PI adjustment on a paid line makes it underpaid (a work-queue Task).
 */
export const ROUTINE_CARC = new Set(['45', '42', 'A2', '23', '94', '253']);

export function carcText(code: string): string {
  return CARC[code] ?? `see the X12 CARC list (${CARC_SYSTEM})`;
}

export function rarcText(code: string): string {
  return RARC[code] ?? `see the X12 RARC list (${RARC_SYSTEM})`;
}
