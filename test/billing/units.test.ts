import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import {
  TIMED_CODES,
  allocateCmsUnits,
  allocateMidpointUnits,
  applySessionCap,
  cmsTotalUnits,
  computeUnits,
  isTimedCode,
  midpointUnits,
  splitCoTreatment,
} from '../../src/billing/units.js';
import type { TimedService, UnitAllocation } from '../../src/billing/types.js';

/** The Pub 100-04 ch. 5 §20.2 table written out as ranges (0-7 -> 0, 8-22 -> 1, ...), independent of the code. */
function tableUnits(minutes: number): number {
  if (minutes <= 7) return 0;
  for (let units = 1, low = 8; ; units++, low += 15) {
    if (minutes >= low && minutes <= low + 14) return units;
  }
}

const unitsOf = (allocations: readonly UnitAllocation[]): Record<string, number> =>
  Object.fromEntries(allocations.map((a) => [a.code, a.units]));

const services = (pairs: [string, number][]): TimedService[] => pairs.map(([code, minutes]) => ({ code, minutes }));

describe('cmsTotalUnits (Pub 100-04 ch. 5 §20.2 table)', () => {
  it.each([
    [0, 0], [7, 0], [8, 1], [22, 1], [23, 2], [37, 2], [38, 3], [52, 3], [53, 4], [67, 4],
    [68, 5], [82, 5], [83, 6], [97, 6], [98, 7], [112, 7], [113, 8], [127, 8], [128, 9], [143, 10],
  ])('%i minutes -> %i units', (minutes, units) => {
    expect(cmsTotalUnits(minutes)).toBe(units);
  });

  it('refuses negative or fractional minutes', () => {
    expect(() => cmsTotalUnits(-1)).toThrow(RangeError);
    expect(() => cmsTotalUnits(7.5)).toThrow(RangeError);
  });
});

describe('allocateCmsUnits: the worked examples of DOMAIN §A', () => {
  it('97112 24 + 97110 23 = 47 min -> 97112 x2, 97110 x1', () => {
    expect(unitsOf(allocateCmsUnits(services([['97112', 24], ['97110', 23]])))).toEqual({ '97112': 2, '97110': 1 });
  });

  it('97112 20 + 97110 20 = 40 min -> 3 units, one code x2 and the other x1', () => {
    const units = Object.values(unitsOf(allocateCmsUnits(services([['97112', 20], ['97110', 20]]))));
    expect(units.sort()).toEqual([1, 2]);
  });

  it('97110 33 + 97140 7 = 40 min -> 97110 x2, 97140 x1', () => {
    expect(unitsOf(allocateCmsUnits(services([['97110', 33], ['97140', 7]])))).toEqual({ '97110': 2, '97140': 1 });
  });

  it('97110 18 + 97140 13 + 97116 10 + 97035 8 = 49 min -> 97110, 97140, 97116 x1, 97035 x0', () => {
    const result = allocateCmsUnits(services([['97110', 18], ['97140', 13], ['97116', 10], ['97035', 8]]));
    expect(unitsOf(result)).toEqual({ '97110': 1, '97140': 1, '97116': 1, '97035': 0 });
  });

  it.each([[7, 0], [8, 1], [22, 1], [23, 2]])('97116 alone %i min -> %i units', (minutes, units) => {
    expect(allocateCmsUnits(services([['97116', minutes]]))).toEqual([{ code: '97116', minutes, units }]);
  });

  it('services each under 8 minutes that add up to >= 8 bill 1 unit of the one with the most minutes', () => {
    expect(unitsOf(allocateCmsUnits(services([['97110', 5], ['97140', 6]])))).toEqual({ '97110': 0, '97140': 1 });
  });

  it('sums a code given twice into one line before allocating', () => {
    expect(allocateCmsUnits(services([['97116', 5], ['97110', 3], ['97116', 4]]))).toEqual([
      { code: '97116', minutes: 9, units: 1 },
      { code: '97110', minutes: 3, units: 0 },
    ]);
  });
});

describe('midpoint rule (AMA/CPT)', () => {
  it.each([[7, 0], [8, 1], [22, 1], [23, 2], [37, 2], [38, 3]])('%i minutes of one code -> %i units', (minutes, units) => {
    expect(midpointUnits(minutes)).toBe(units);
  });

  it('97110 10 + 97116 10 -> 2 units, where CMS gives 1', () => {
    const input = services([['97110', 10], ['97116', 10]]);
    expect(unitsOf(allocateMidpointUnits(input))).toEqual({ '97110': 1, '97116': 1 });
    expect(allocateCmsUnits(input).reduce((sum, a) => sum + a.units, 0)).toBe(1);
  });
});

describe('computeUnits', () => {
  it('bills untimed codes 1 unit whatever their minutes, timed codes by the policy', () => {
    const input = services([['97161', 45], ['97110', 10], ['97116', 10], ['97164', 0]]);
    expect(unitsOf(computeUnits(input, { unitRule: 'cms-8-minute' }))).toEqual({ '97161': 1, '97110': 1, '97116': 0, '97164': 1 });
    expect(unitsOf(computeUnits(input, { unitRule: 'midpoint' }))).toEqual({ '97161': 1, '97110': 1, '97116': 1, '97164': 1 });
  });

  it('does not count untimed minutes toward the timed total', () => {
    const input = services([['97162', 30], ['97116', 7]]);
    expect(unitsOf(computeUnits(input, { unitRule: 'cms-8-minute' }))).toEqual({ '97162': 1, '97116': 0 });
  });

  it('refuses a code whose unit basis is unknown', () => {
    expect(() => computeUnits(services([['99213', 20]]), { unitRule: 'cms-8-minute' })).toThrow(/99213/);
  });

  it('knows 97116 is timed and 97161 is not', () => {
    expect(isTimedCode('97116')).toBe(true);
    expect(isTimedCode('97161')).toBe(false);
  });
});

describe('splitCoTreatment', () => {
  const ptOt = (pt: number, ot: number, overlap: number) => ({
    code: '97116',
    therapists: [{ discipline: 'PT' as const, minutes: pt }, { discipline: 'OT' as const, minutes: ot }] as const,
    overlapMinutes: overlap,
  });

  it('PT + OT together for 60 min -> 4 units, not 8', () => {
    const result = splitCoTreatment({ ...ptOt(60, 60, 60), billing: 'split' });
    expect(result.sessionMinutes).toBe(60);
    expect(result.totalUnits).toBe(4);
    expect(result.shares.map((s) => s.units)).toEqual([2, 2]);
  });

  it("'single' gives every unit to one therapist: the one with most minutes, or billedBy", () => {
    expect(splitCoTreatment({ ...ptOt(60, 60, 60), billing: 'single' }).shares.map((s) => s.units)).toEqual([4, 0]);
    expect(splitCoTreatment({ ...ptOt(60, 60, 60), billing: 'single', billedBy: 'OT' }).shares.map((s) => s.units)).toEqual([0, 4]);
    expect(() => splitCoTreatment({ ...ptOt(60, 60, 60), billing: 'single', billedBy: 'SLP' })).toThrow(RangeError);
  });

  it('counts overlapping minutes once and splits in proportion to minutes', () => {
    const result = splitCoTreatment({ ...ptOt(45, 30, 30), billing: 'split' });
    expect(result.sessionMinutes).toBe(45);
    expect(result.totalUnits).toBe(3);
    expect(result.shares.map((s) => s.units)).toEqual([2, 1]);
  });

  it('refuses an overlap longer than a therapist was there', () => {
    expect(() => splitCoTreatment({ ...ptOt(20, 10, 15), billing: 'split' })).toThrow(RangeError);
  });

  it('shares always add up to the units the session minutes allow (property)', () => {
    fc.assert(
      fc.property(fc.nat({ max: 120 }), fc.nat({ max: 120 }), fc.nat({ max: 120 }), fc.boolean(), (pt, ot, rawOverlap, split) => {
        const overlap = Math.min(rawOverlap, pt, ot);
        const result = splitCoTreatment({ ...ptOt(pt, ot, overlap), billing: split ? 'split' : 'single' });
        expect(result.totalUnits).toBe(tableUnits(pt + ot - overlap));
        expect(result.shares[0]!.units + result.shares[1]!.units).toBe(result.totalUnits);
      }),
    );
  });
});

describe('applySessionCap (97116, 4 units per session)', () => {
  const fiveUnits = allocateCmsUnits(services([['97116', 75]]));
  const cap = { code: '97116', maxUnits: 4 };

  it('holds the claim for review when the cap is exceeded without justification, keeping the units', () => {
    const result = applySessionCap(fiveUnits, cap, false);
    expect(result.heldForReview).toBe(true);
    expect(result.reason).toMatch(/97116.*5 units.*limit of 4/);
    expect(result.allocations).toEqual([{ code: '97116', minutes: 75, units: 5 }]);
  });

  it('does not hold it when the session documents a justification', () => {
    expect(applySessionCap(fiveUnits, cap, true)).toEqual({ allocations: fiveUnits, heldForReview: false, reason: null });
  });

  it('does not hold it at the cap', () => {
    expect(applySessionCap(allocateCmsUnits(services([['97116', 60]])), cap, false).heldForReview).toBe(false);
  });
});

describe('unit properties', () => {
  const service = fc.record({ code: fc.constantFrom(...TIMED_CODES), minutes: fc.nat({ max: 90 }) });
  const distinctServices = fc.uniqueArray(service, { selector: (s) => s.code, maxLength: 8 });

  it('CMS total units equal the table for every total', () => {
    fc.assert(fc.property(fc.nat({ max: 1000 }), (minutes) => cmsTotalUnits(minutes) === tableUnits(minutes)));
  });

  it('CMS allocation sums to the total units and gives each code floor(m/15) to ceil(m/15) units', () => {
    fc.assert(
      fc.property(distinctServices, (input) => {
        const result = allocateCmsUnits(input);
        const total = input.reduce((sum, s) => sum + s.minutes, 0);
        expect(result.reduce((sum, a) => sum + a.units, 0)).toBe(tableUnits(total));
        expect(result.reduce((sum, a) => sum + a.units, 0)).toBe(cmsTotalUnits(total));
        for (const a of result) {
          expect(a.units).toBeGreaterThanOrEqual(Math.floor(a.minutes / 15));
          expect(a.units).toBeLessThanOrEqual(Math.ceil(a.minutes / 15));
        }
      }),
    );
  });

  it('no code gets units without minutes, under either rule', () => {
    fc.assert(
      fc.property(distinctServices, (input) => {
        for (const a of [...allocateCmsUnits(input), ...allocateMidpointUnits(input)]) {
          if (a.minutes === 0) expect(a.units).toBe(0);
        }
      }),
    );
  });

  it('midpoint units of a code never depend on the other codes', () => {
    fc.assert(
      fc.property(distinctServices, fc.nat({ max: 90 }), (others, minutes) => {
        const rest = others.filter((s) => s.code !== '97116');
        const alone = allocateMidpointUnits([{ code: '97116', minutes }]);
        const withOthers = allocateMidpointUnits([...rest, { code: '97116', minutes }]);
        expect(unitsOf(withOthers)['97116']).toBe(unitsOf(alone)['97116']);
        expect(unitsOf(alone)['97116']).toBe(tableUnits(minutes));
      }),
    );
  });

  it('CMS allocation does not depend on the order the services are given in', () => {
    fc.assert(
      fc.property(
        distinctServices.chain((input) => fc.tuple(fc.constant(input), fc.shuffledSubarray(input, { minLength: input.length }))),
        ([input, shuffled]) => {
          expect(unitsOf(allocateCmsUnits(shuffled))).toEqual(unitsOf(allocateCmsUnits(input)));
        },
      ),
    );
  });
});
