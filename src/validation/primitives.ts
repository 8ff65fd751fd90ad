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
 * A fast test that a JSON value of `type` keeps the rules above (true also for shapes the structure layer reports),
 * built once per type for the validation plans; undefined when the type has no such rule. primitiveProblem says why
 * a value that fails it does.
 */
export function primitiveTest(type: string): ((value: unknown) => boolean) | undefined {
  const range = RANGES[type];
  const regex = loadDefinitions().primitiveRegexes.get(type);
  const calendar = CALENDAR_TYPES.has(type);
  if (!range && !regex) return undefined;
  return (value) => {
    if (typeof value === 'number') return !range || !Number.isInteger(value) || (value >= range[0] && value <= range[1]);
    if (typeof value !== 'string') return true;
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
