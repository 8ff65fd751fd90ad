/**
 * The written precision of decimals. FHIR decimals keep their precision ("1.0" is not "1": R4 datatypes.html#decimal)
 * and FHIRPath's lowBoundary()/highBoundary() depend on it ("1.0".lowBoundary() is 0.95, "1".lowBoundary() is 0.5),
 * but JSON.parse makes both the number 1. parseKeepingDecimals parses as JSON.parse does and notes, beside the parsed
 * objects, the text of every number whose text a JavaScript number does not give back; decimalText finds it again for
 * the boundary functions. Only views that call a boundary function pay for it (compile.ts).
 */

/** holder (object or array) -> member name or index -> the number's text as written. */
const TEXTS = new WeakMap<object, Map<string, string>>();

/** JSON numbers, outside strings, in document order (the order JSON.parse's reviver sees them). */
function numberLiterals(text: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charCodeAt(i);
    if (c === 34) {
      // a string: skip to its closing quote
      i++;
      while (i < text.length && text.charCodeAt(i) !== 34) i += text.charCodeAt(i) === 92 ? 2 : 1;
      i++;
    } else if (c === 45 || (c >= 48 && c <= 57)) {
      const start = i;
      i++;
      while (i < text.length && /[0-9.eE+-]/.test(text[i])) i++;
      out.push(text.slice(start, i));
    } else i++;
  }
  return out;
}

export function parseKeepingDecimals(text: string): unknown {
  const literals = numberLiterals(text);
  if (!literals.some((l) => String(Number(l)) !== l)) return JSON.parse(text);
  let n = 0;
  const noted: Array<[object, string, string]> = [];
  const value = JSON.parse(text, function (this: object, key: string, v: unknown) {
    if (typeof v === 'number') {
      const literal = literals[n++];
      if (literal !== undefined && String(v) !== literal) noted.push([this, key, literal]);
    }
    return v;
  });
  // A repeated member name makes JSON.parse drop a number the scan counted: then the texts cannot be matched to
  // their numbers, and none is kept (boundaries fall back to the numbers' own precision).
  if (n !== literals.length) return value;
  for (const [holder, key, literal] of noted) {
    let map = TEXTS.get(holder);
    if (!map) TEXTS.set(holder, (map = new Map()));
    map.set(key, literal);
  }
  return value;
}

/** The text a decimal was written with, if parseKeepingDecimals noted one: `holder[key]`. */
export function decimalText(holder: object | null | undefined, key: string | number): string | undefined {
  return holder ? TEXTS.get(holder)?.get(String(key)) : undefined;
}
