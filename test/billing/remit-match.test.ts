/**
 * SVC lines to Claim items (src/billing/remit-match.ts), as payers return them: as billed, by REF*6R, without the
 * modifiers, split in units, bundled into one line, or a line of the payer's own; an item is never paid twice.
 */
import { describe, expect, it } from 'vitest';
import type { Claim } from '@medplum/fhirtypes';
import { matchLines } from '../../src/billing/remit-match.js';
import type { RemitClaim, RemitLine } from '../../src/billing/x12/remittance.js';

const item = (sequence: number, code: string, modifiers: string[], units: number, charge: number, date = '2026-11-10') => ({
  sequence,
  productOrService: { coding: [{ code }] },
  modifier: modifiers.map((m) => ({ coding: [{ code: m }] })),
  servicedDate: date,
  quantity: { value: units },
  net: { value: charge, currency: 'USD' as const },
});
const claim = { resourceType: 'Claim', item: [item(1, '97116', ['GP'], 2, 240), item(2, '97110', ['GP'], 1, 110), item(3, '97110', ['GP', 'CQ'], 1, 110), item(4, '97140', ['GP'], 1, 100)] } as unknown as Claim;
const line = (code: string, modifiers: string[], units: number, charge: number, more: Partial<RemitLine> = {}): RemitLine => ({ qualifier: 'HC', code, modifiers, charge: charge * 100, paid: 0, units, adjustments: [], remarks: [], start: '2026-11-10', end: '2026-11-10', firstLine: 1, lastLine: 1, ...more });
const remit = (lines: RemitLine[]): RemitClaim => ({ controlNumber: 'X', status: '1', charge: 0, paid: 0, payerClaimNumber: 'P', patient: { family: '', given: '', id: '' }, adjustments: [], remarks: [], lines, firstLine: 1, lastLine: 1 });
const summary = (lines: RemitLine[]) => matchLines(claim, remit(lines)).map((m) => `${m.kind}:${m.items.join('+')}`);

describe('matching 835 service lines to Claim items', () => {
  it('as billed, in any order of lines and modifiers', () => {
    expect(summary([line('97140', ['GP'], 1, 100), line('97110', ['CQ', 'GP'], 1, 110), line('97110', ['GP'], 1, 110), line('97116', ['GP'], 2, 240)])).toEqual(['exact:4', 'exact:3', 'exact:2', 'exact:1']);
  });
  it('by REF*6R first, even when the modifiers say otherwise', () => {
    expect(summary([line('97110', ['GP'], 1, 110, { controlNumber: '3' }), line('97110', ['GP'], 1, 110)])).toEqual(['control-number:3', 'exact:2']);
  });
  it('without the billed modifiers: by code, date, units and charge; two lines never take one item', () => {
    expect(summary([line('97110', [], 1, 110), line('97110', [], 1, 110), line('97110', [], 1, 110)])).toEqual(['code-date-units-charge:2', 'code-date-units-charge:3', 'unmatched:']);
  });
  it('split in units: shares of one item up to its units and charge, the rest unmatched', () => {
    expect(summary([line('97116', ['GP'], 1, 120), line('97116', ['GP'], 1, 120), line('97116', ['GP'], 1, 120)])).toEqual(['split:1', 'split:1', 'unmatched:']);
  });
  it('bundled: one line for two items of the code and date', () => {
    expect(summary([line('97110', [], 2, 220)])).toEqual(['bundled:2+3']);
  });
  it('the code billed (SVC06) when the payer paid another; a line of the payer\'s own, or of another date, is unmatched', () => {
    expect(summary([line('97530', ['GP'], 1, 100, { billed: { code: '97140', modifiers: ['GP'] } }), line('99070', [], 1, 0), line('97116', ['GP'], 2, 240, { start: '2026-11-11', end: '2026-11-11' })])).toEqual(['exact:4', 'unmatched:', 'unmatched:']);
  });
});
