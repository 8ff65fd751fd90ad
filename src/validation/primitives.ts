/**
 * The R4 primitive rules the regular expressions of the definitions do not state (R4 datatypes.html#primitive):
 * - integer: "A signed integer in the range -2,147,483,648..+2,147,483,647 (32-bit; for larger values, use
 *   decimal)"; positiveInt "Any positive integer in the range 1..2,147,483,647"; unsignedInt "Any non-negative
 *   integer in the range 0..2,147,483,647". JSON gives them as numbers, so `1e29` parses as an integral number far
 *   out of range and must still be refused;
 * - date, dateTime, instant: "SHALL be valid dates" (a real calendar day: 1951-02-30 matches the expression);
 * - decimal: a finite JSON number (R4 json.html: no NaN or Infinity).
 * - every string primitive matches its type's R4 regular expression exactly (the definitions' own, read in
 *   definitions.ts; @medplum/core's are looser for dateTime and stricter for string and instant, so the structure
 *   layer's format findings are replaced by these).
 * test/validation/primitives.test.ts checks all of it against the R4 expressions and ranges with generated values.
 */
import { calendarProblem } from './temporal.js';
import { loadDefinitions } from './definitions.js';

export const INT32_MIN = -2147483648;
export const INT32_MAX = 2147483647;

const RANGES: Record<string, [number, number]> = {
  integer: [INT32_MIN, INT32_MAX],
  positiveInt: [1, INT32_MAX],
  unsignedInt: [0, INT32_MAX],
};

const CALENDAR_TYPES = new Set(['date', 'dateTime', 'instant']);

/**
 * R4 datatypes.html#string: "Strings SHALL NOT exceed 1MB (1024*1024 characters) in size", for string and the types
 * defined as strings (code, id, markdown). base64Binary has no such limit ("there is no specified upper limit to the
 * size of a binary"): a Binary of a 3 MB X12 batch is valid. @medplum/core applies the limit to every string-valued
 * primitive; the structure layer drops that finding and this rule decides.
 */
const MAX_STRING = 1024 * 1024;
const LIMITED_STRINGS = new Set(['string', 'code', 'id', 'markdown']);

/**
 * base64Binary, checked in one pass instead of by R4's expression `(\s*([0-9a-zA-Z\+\=]){4}\s*)+`: a nested,
 * repeated group that a regular-expression engine walks recursively, so a value of a few MB overflowed the stack (a
 * 500 on a large Binary). The same rule otherwise: groups of four base64 characters with whitespace only between
 * groups (every run of base64 characters a multiple of four long), except that `/` is a base64 character, as RFC
 * 4648 §4 says and R5's expression has it (R4's leaves it out, and would refuse most real base64).
 */
function isBase64(value: string): boolean {
  let run = 0;
  let any = false;
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if ((c >= 65 && c <= 90) || (c >= 97 && c <= 122) || (c >= 48 && c <= 57) || c === 43 || c === 47 || c === 61) {
      run++;
      any = true;
    } else if (c === 32 || c === 9 || c === 10 || c === 13 || c === 11 || c === 12) {
      if (run % 4 !== 0) return false;
      run = 0;
    } else return false;
  }
  return any && run % 4 === 0;
}

/**
 * A fast test that a JSON value of `type` keeps the rules above (true also for shapes the structure layer reports),
 * built once per type for the validation plans; undefined when the type has no such rule. primitiveProblem says why
 * a value that fails it does.
 */
export function primitiveTest(type: string): ((value: unknown) => boolean) | undefined {
  if (type === 'base64Binary') return (value) => typeof value !== 'string' || isBase64(value);
  const range = RANGES[type];
  const regex = loadDefinitions().primitiveRegexes.get(type);
  const calendar = CALENDAR_TYPES.has(type);
  const limited = LIMITED_STRINGS.has(type);
  if (!range && !regex && !limited) return undefined;
  return (value) => {
    if (typeof value === 'number') return !range || !Number.isInteger(value) || (value >= range[0] && value <= range[1]);
    if (typeof value !== 'string') return true;
    if (limited && value.length > MAX_STRING) return false;
    if (regex && !regex.test(value)) return false;
    // Only a value that names a day can name one that does not exist.
    return !calendar || value.length < 10 || calendarProblem(value) === undefined;
  };
}

/** Why a JSON value of a primitive type breaks a rule above, or undefined. Other shapes are the structure layer's. */
export function primitiveProblem(type: string, value: unknown): string | undefined {
  if (typeof value === 'number') {
    const range = RANGES[type];
    if (range) {
      if (!Number.isInteger(value)) return undefined; // the structure layer says "Expected number to be an integer"
      if (value < range[0] || value > range[1]) return `${formatNumber(value)} is out of the ${type} range ${range[0]}..${range[1]} (32-bit); use a decimal element for larger values`;
    }
    return undefined;
  }
  if (typeof value !== 'string') return undefined;
  if (type === 'base64Binary') return isBase64(value) ? undefined : `${show(value)} is not base64 (RFC 4648: groups of four of A-Z a-z 0-9 + / =)`;
  if (LIMITED_STRINGS.has(type) && value.length > MAX_STRING) return `a ${type} of ${value.length} characters is longer than R4 allows (1 MB, 1,048,576 characters: datatypes.html#string)`;
  const regex = loadDefinitions().primitiveRegexes.get(type);
  if (regex && !regex.test(value)) return `${show(value)} is not a valid ${type} (R4 datatypes.html#${type}: ${regex.source.slice(4, -2)})`;
  if (CALENDAR_TYPES.has(type)) {
    const problem = calendarProblem(value);
    return problem && `"${value}" is not a real ${type}: ${problem}`;
  }
  return undefined;
}

function show(value: string): string {
  return JSON.stringify(value.length > 60 ? `${value.slice(0, 60)}...` : value);
}

function formatNumber(n: number): string {
  return Math.abs(n) >= 1e21 ? n.toExponential() : String(n);
}
