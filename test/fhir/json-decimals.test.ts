/**
 * The mechanism every read-modify-write of a stored resource relies on (src/fhir/json-decimals.ts; the claims, money,
 * jobs and bots code parse stored JSON with parseJsonKeepingDecimals): a resource parsed from its stored text, changed
 * by a spread as Stride's own writes change it (a Claim's stage, an Invoice's status), and stamped again keeps the
 * decimals it does not change as written; a member changed to another number takes its own value.
 */
import { describe, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { mayHaveDecimalText, parseJsonKeepingDecimals, stringifyKeepingDecimals } from '../../src/fhir/json-decimals.js';
import { stamp } from '../../src/repo/meta.js';

const stored = '{"resourceType":"Claim","id":"c1","status":"active","item":[{"sequence":1,"net":{"value":120.50,"currency":"USD"},"quantity":{"value":2}}],"total":{"value":120.50,"currency":"USD"},"note":"1.50, in text"}';

describe('decimals through a read-modify-write', () => {
  it('a spread copy with a changed member, stamped again, keeps the texts of the members it did not change', () => {
    const claim = parseJsonKeepingDecimals(stored) as Record<string, any>;
    expect(claim.total.value).toBe(120.5);
    const changed = { ...claim, status: 'cancelled', extension: [{ url: 'http://example.org/stage', valueCode: 'closed' }] };
    const { json } = stamp(changed as unknown as Resource, 'c1', 2, Date.UTC(2026, 11, 7));
    expect(json).toContain('"net":{"value":120.50,');
    expect(json).toContain('"total":{"value":120.50,');
    expect(json).toContain('"status":"cancelled"');
    // A number changed since it was read is written as it now is.
    claim.total.value = 99.5;
    expect(stringifyKeepingDecimals(claim)).toContain('"total":{"value":99.5,');
  });

  it('canonical numbers are written as JSON writes them, and text that only looks like a decimal stays text', () => {
    expect(mayHaveDecimalText('{"a":"2026-01-01T00:00:00.000Z","b":10,"c":1.5}')).toBe(false);
    expect(mayHaveDecimalText('{"a":1.50}')).toBe(true);
    // A string that looks like one only costs the slower parse, which finds nothing to keep.
    const lookalike = '{"resourceType":"Basic","d":"1.50, as text","n":1.5}';
    expect(mayHaveDecimalText(lookalike)).toBe(true);
    expect(stringifyKeepingDecimals(parseJsonKeepingDecimals(lookalike))).toBe(lookalike);
    const plain = parseJsonKeepingDecimals('{"resourceType":"Basic","n":1.5}');
    expect(stringifyKeepingDecimals(plain)).toBe('{"resourceType":"Basic","n":1.5}');
  });
});
