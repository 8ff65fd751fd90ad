/** The fingerprint of what a sending carries (src/billing/stage.ts): equal content, equal text, whatever the key order. */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Claim } from '@medplum/fhirtypes';
import { canonicalJson, fingerprintOf, STAGE_EXTENSION, withStage } from '../../src/billing/stage.js';

/** The same value with every object's keys in reverse order. */
function reversed(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(reversed);
  if (value === null || typeof value !== 'object') return value;
  return Object.fromEntries(Object.keys(value).reverse().map((k) => [k, reversed((value as Record<string, unknown>)[k])]));
}

describe('canonicalJson', () => {
  it('is JSON that parses back to the same value, with the same text for any key order', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const text = canonicalJson(value);
        expect(JSON.parse(text)).toEqual(JSON.parse(JSON.stringify(value)));
        expect(canonicalJson(reversed(value))).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  it('leaves out undefined members and writes undefined array items as null, as JSON.stringify does', () => {
    expect(canonicalJson({ b: 1, a: undefined, c: [undefined, 2] })).toBe(JSON.stringify({ b: 1, c: [null, 2] }));
  });
});

describe('fingerprintOf', () => {
  const claim = { resourceType: 'Claim', id: 'c1', status: 'active', total: { value: 120.5, currency: 'USD' }, item: [{ sequence: 1, productOrService: { coding: [{ code: '97116' }] } }] } as unknown as Claim;

  it('ignores the id, version, status and stage, and sees any change of content', () => {
    const same = withStage({ ...claim, id: 'other', meta: { versionId: '9' }, status: 'draft' }, 'submitted');
    expect(fingerprintOf(same)).toBe(fingerprintOf(claim));
    expect(same.extension?.[0]?.url).toBe(STAGE_EXTENSION);
    expect(fingerprintOf({ ...claim, total: { value: 120.51, currency: 'USD' } })).not.toBe(fingerprintOf(claim));
    expect(fingerprintOf({ ...claim, item: [{ ...claim.item![0]!, modifier: [{ coding: [{ code: 'GP' }] }] }] } as Claim)).not.toBe(fingerprintOf(claim));
  });
});
