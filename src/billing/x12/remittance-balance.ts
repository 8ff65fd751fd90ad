/**
 * The balancing rules of an 835 (005010X221A1 §1.10.2, "Balancing"): the payment equals the claims' payments less the
 * provider-level adjustments (BPR02 = ΣCLP04 − ΣPLB amounts); each claim's payment is its charge less all its
 * adjustments, claim-level and line-level (CLP04 = CLP03 − ΣCAS); each service line's payment is its charge less its
 * adjustments (SVC03 = SVC02 − ΣCAS). A remittance that breaks one is not posted: each problem names its line.
 * Integer cents, so equal means equal.
 */
import type { Remittance } from './remittance.js';

const money = (cents: number) => `${cents < 0 ? '-' : ''}${Math.floor(Math.abs(cents) / 100)}.${String(Math.abs(cents) % 100).padStart(2, '0')}`;

export function balanceProblems(r: Remittance): string[] {
  const problems: string[] = [];
  const claimsPaid = r.claims.reduce((sum, c) => sum + c.paid, 0);
  const provider = r.adjustments.reduce((sum, a) => sum + a.amount, 0);
  if (claimsPaid - provider !== r.amount) {
    problems.push(`the payment (BPR02 ${money(r.amount)}) is not the claims' payments (ΣCLP04 ${money(claimsPaid)}) less the provider adjustments (ΣPLB ${money(provider)}): ${money(claimsPaid - provider)}`);
  }
  for (const c of r.claims) {
    const lineAdjustments = c.lines.flatMap((l) => l.adjustments);
    const adjusted = [...c.adjustments, ...lineAdjustments].reduce((sum, a) => sum + a.amount, 0);
    if (c.charge - adjusted !== c.paid) {
      problems.push(`claim ${c.controlNumber} (line ${c.firstLine}): CLP04 ${money(c.paid)} is not CLP03 ${money(c.charge)} less its adjustments ${money(adjusted)}: ${money(c.charge - adjusted)}`);
    }
    for (const l of c.lines) {
      const lineAdjusted = l.adjustments.reduce((sum, a) => sum + a.amount, 0);
      if (l.charge - lineAdjusted !== l.paid) {
        problems.push(`claim ${c.controlNumber}, service line ${l.code} (line ${l.firstLine}): SVC03 ${money(l.paid)} is not SVC02 ${money(l.charge)} less its adjustments ${money(lineAdjusted)}: ${money(l.charge - lineAdjusted)}`);
      }
    }
  }
  return problems;
}

export { money };
