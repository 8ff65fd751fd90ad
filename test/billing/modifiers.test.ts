import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  PTP_PAIRS,
  assistantModifier,
  buildLineModifiers,
  disciplineModifier,
  markKxLines,
  needsKx,
  ptpModifiers,
  splitAssistantUnits,
} from '../../src/billing/modifiers.js';
import type { PtpPair } from '../../src/billing/types.js';

describe('disciplineModifier', () => {
  it('maps PT, OT, SLP to GP, GO, GN', () => {
    expect(['PT', 'OT', 'SLP'].map((d) => disciplineModifier(d as 'PT' | 'OT' | 'SLP'))).toEqual(['GP', 'GO', 'GN']);
  });
});

describe('assistantModifier: de minimis 10% of a 15-minute unit', () => {
  it.each([
    ['PT', 1, null],
    ['PT', 1.5, null],
    ['PT', 2, 'CQ'],
    ['OT', 1.5, null],
    ['OT', 2, 'CO'],
    ['SLP', 15, null],
  ] as const)('%s assistant %s min of a unit -> %s', (discipline, minutes, expected) => {
    expect(assistantModifier(discipline, minutes)).toBe(expected);
  });

  it('uses the service total for an untimed code (45 min eval: 4.5 min is the line)', () => {
    expect(assistantModifier('OT', 4, 45)).toBeNull();
    expect(assistantModifier('OT', 5, 45)).toBe('CO');
  });
});

describe('splitAssistantUnits', () => {
  const line = (therapistMinutes: number, assistantMinutes: number, units: number, code = '97110') =>
    splitAssistantUnits({ discipline: 'PT', code, units, therapistMinutes, assistantMinutes });

  it('CMS scenario: PTA 23 + PT 13 min of 97110 (2 units) -> 1 unit with CQ, 1 without', () => {
    expect(line(13, 23, 2)).toEqual({ modifier: 'CQ', unitsWithModifier: 1, unitsWithoutModifier: 1 });
  });

  it('all minutes by the assistant -> every unit CQ; all by the therapist -> none', () => {
    expect(line(0, 30, 2)).toEqual({ modifier: 'CQ', unitsWithModifier: 2, unitsWithoutModifier: 0 });
    expect(line(30, 0, 2)).toEqual({ modifier: null, unitsWithModifier: 0, unitsWithoutModifier: 2 });
  });

  it('final unit just below the 10% line (PT 7 + PTA 1 = 8 min) -> no CQ', () => {
    expect(line(7, 1, 1)).toEqual({ modifier: null, unitsWithModifier: 0, unitsWithoutModifier: 1 });
  });

  it('final unit just above the 10% line (PT 6 + PTA 2 = 8 min) -> CQ', () => {
    expect(line(6, 2, 1)).toEqual({ modifier: 'CQ', unitsWithModifier: 1, unitsWithoutModifier: 0 });
  });

  it('therapist alone reaches 8 minutes of the final unit and furnished more -> no CQ', () => {
    expect(line(10, 5, 1)).toEqual({ modifier: null, unitsWithModifier: 0, unitsWithoutModifier: 1 });
  });

  it('two leftover units with each furnishing 9-14 minutes -> one unit each', () => {
    expect(line(12, 12, 2)).toEqual({ modifier: 'CQ', unitsWithModifier: 1, unitsWithoutModifier: 1 });
    expect(line(14, 10, 2)).toEqual({ modifier: 'CQ', unitsWithModifier: 1, unitsWithoutModifier: 1 });
  });

  it('untimed code: CO when the assistant furnished more than 10% of the service', () => {
    const evaluation = (assistantMinutes: number) =>
      splitAssistantUnits({ discipline: 'OT', code: '97165', units: 1, therapistMinutes: 40, assistantMinutes });
    expect(evaluation(4)).toEqual({ modifier: null, unitsWithModifier: 0, unitsWithoutModifier: 1 });
    expect(evaluation(5)).toEqual({ modifier: 'CO', unitsWithModifier: 1, unitsWithoutModifier: 0 });
  });

  it('never for SLP', () => {
    expect(splitAssistantUnits({ discipline: 'SLP', code: '92507', units: 1, therapistMinutes: 0, assistantMinutes: 30 }).modifier).toBeNull();
  });

  it('always splits exactly the line units (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 60 }), fc.nat({ max: 60 }), fc.nat({ max: 8 }), (t, a, units) => {
        const split = line(t, a, units);
        expect(split.unitsWithModifier + split.unitsWithoutModifier).toBe(units);
        if (a <= 1) expect(split.unitsWithModifier).toBe(0);
      }),
    );
  });
});

describe('KX threshold', () => {
  it.each([
    [2000, 300, false], // 2,300 below 2,410
    [2400, 10, false], // exactly 2,410 is not above it
    [2400, 20, true], // crosses
    [2500, 10, true], // already above
  ])('2025: prior %i + line %i -> KX %s', (prior, line, expected) => {
    expect(needsKx(prior, line, 2025, 'PT')).toBe(expected);
  });

  it('uses each year’s amount: 2024 $2,330, 2026 $2,480', () => {
    expect(needsKx(2330, 1, 2024, 'OT')).toBe(true);
    expect(needsKx(2400, 79, 2026, 'SLP')).toBe(false);
    expect(needsKx(2400, 81, 2026, 'SLP')).toBe(true);
  });

  it('refuses a year with no published threshold', () => {
    expect(() => needsKx(0, 10, 2019, 'PT')).toThrow(RangeError);
  });

  it('compares in cents, not floating dollars', () => {
    expect(needsKx(2409.9, 0.1, 2025, 'PT')).toBe(false);
    expect(needsKx(2409.9, 0.11, 2025, 'PT')).toBe(true);
  });

  it('marks the crossing line and every later line of the pool; PT and SLP combined, OT apart', () => {
    const lines = [
      { discipline: 'PT' as const, allowed: 50 }, // PT+SLP 2,350
      { discipline: 'SLP' as const, allowed: 80 }, // PT+SLP 2,430 crosses 2,410
      { discipline: 'OT' as const, allowed: 500 }, // OT 2,300
      { discipline: 'PT' as const, allowed: 40 }, // PT+SLP 2,470
      { discipline: 'OT' as const, allowed: 150 }, // OT 2,450 crosses
    ];
    const result = markKxLines({ ptSlp: 2300, ot: 1800 }, lines, 2025);
    expect(result.map((r) => r.kx)).toEqual([false, true, false, true, true]);
    expect(result.map((r) => r.pool)).toEqual(['PT+SLP', 'PT+SLP', 'OT', 'PT+SLP', 'OT']);
    expect(result[4]!.cumulativeAllowed).toBe(2450);
  });

  it('an OT pool above the threshold does not put KX on PT lines', () => {
    const result = markKxLines({ ptSlp: 100, ot: 2600 }, [{ discipline: 'PT', allowed: 100 }, { discipline: 'OT', allowed: 10 }], 2025);
    expect(result.map((r) => r.kx)).toEqual([false, true]);
  });

  it('flags targeted medical review above $3,000', () => {
    const result = markKxLines({ ptSlp: 2990, ot: 0 }, [{ discipline: 'PT', allowed: 10 }, { discipline: 'PT', allowed: 20 }], 2025);
    expect(result.map((r) => r.targetedReview)).toEqual([false, true]);
    expect(result.map((r) => r.kx)).toEqual([true, true]);
  });
});

describe('ptpModifiers (NCCI PTP)', () => {
  const gaitWithActivities = [{ code: '97530', units: 2 }, { code: '97116', units: 1 }];

  it('ships 97530 (column 1) / 97116 (column 2) as a bypassable sample pair', () => {
    expect(PTP_PAIRS).toContainEqual(expect.objectContaining({ column1: '97530', column2: '97116', modifierIndicator: '1' }));
  });

  it('adds 59 to the column-2 line when distinct services are documented', () => {
    expect(ptpModifiers(gaitWithActivities, () => true)).toEqual({ modifiers: [{ lineIndex: 1, code: '97116', modifier: '59' }], findings: [] });
  });

  it('adds the preferred X modifier instead of 59, never both', () => {
    const { modifiers } = ptpModifiers(gaitWithActivities, () => true, { prefer: 'XU' });
    expect(modifiers).toEqual([{ lineIndex: 1, code: '97116', modifier: 'XU' }]);
  });

  it('without documentation: no modifier, a finding that the column-2 line is not separately payable', () => {
    const result = ptpModifiers(gaitWithActivities, () => false);
    expect(result.modifiers).toEqual([]);
    expect(result.findings).toEqual([expect.objectContaining({ kind: 'ptp-not-separately-payable', lineIndex: 1, column1: '97530', column2: '97116' })]);
  });

  it('ignores a pair when one code is not billed', () => {
    expect(ptpModifiers([{ code: '97116' }, { code: '97110' }], () => false)).toEqual({ modifiers: [], findings: [] });
    expect(ptpModifiers([{ code: '97530', units: 0 }, { code: '97116', units: 1 }], () => false)).toEqual({ modifiers: [], findings: [] });
  });

  it('an undocumented pair blocks the modifier even if another pair on the line is documented', () => {
    const pairs: PtpPair[] = [
      { column1: '97530', column2: '97116', modifierIndicator: '1', source: 'test' },
      { column1: '97112', column2: '97116', modifierIndicator: '1', source: 'test' },
    ];
    const lines = [{ code: '97530' }, { code: '97112' }, { code: '97116' }];
    const result = ptpModifiers(lines, (_code, pair) => pair.column1 === '97530', { pairs });
    expect(result.modifiers).toEqual([]);
    expect(result.findings.map((f) => f.column1)).toEqual(['97112']);
  });

  it('indicator 0 is never bypassed; indicator 9 is no edit', () => {
    const pairs: PtpPair[] = [
      { column1: '97530', column2: '97116', modifierIndicator: '0', source: 'test' },
      { column1: '97140', column2: '97124', modifierIndicator: '9', source: 'test' },
    ];
    const lines = [{ code: '97530' }, { code: '97116' }, { code: '97140' }, { code: '97124' }];
    const result = ptpModifiers(lines, () => true, { pairs });
    expect(result.modifiers).toEqual([]);
    expect(result.findings.map((f) => f.lineIndex)).toEqual([1]);
  });

  it('never gives a line two distinct modifiers, nor a modifier and a finding (property)', () => {
    const codes = ['97530', '97116', '97140', '97124', '97150', '97164', '97110'];
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...codes), { maxLength: 8 }), fc.func(fc.boolean()), (lineCodes, documented) => {
        const result = ptpModifiers(lineCodes.map((code) => ({ code })), (code) => documented(code));
        const indices = result.modifiers.map((m) => m.lineIndex);
        expect(new Set(indices).size).toBe(indices.length);
        for (const f of result.findings) expect(indices).not.toContain(f.lineIndex);
      }),
    );
  });
});

describe('buildLineModifiers', () => {
  it('orders discipline, assistant, distinct, KX', () => {
    expect(buildLineModifiers({ discipline: 'PT', assistant: 'CQ', distinct: '59', kx: true })).toEqual(['GP', 'CQ', '59', 'KX']);
    expect(buildLineModifiers({ discipline: 'OT', kx: true, assistant: 'CO' })).toEqual(['GO', 'CO', 'KX']);
    expect(buildLineModifiers({ discipline: 'SLP', distinct: 'XU' })).toEqual(['GN', 'XU']);
  });

  it('refuses an assistant modifier of another discipline', () => {
    expect(() => buildLineModifiers({ discipline: 'PT', assistant: 'CO' })).toThrow(RangeError);
    expect(() => buildLineModifiers({ discipline: 'SLP', assistant: 'CQ' })).toThrow(RangeError);
  });
});
