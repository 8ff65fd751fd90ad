/**
 * The written precision of decimals (issue 24 §4; R4 datatypes.html#decimal: "1.0" is not "1", and the precision a
 * decimal was written with is kept). JSON.parse makes "1.50" the number 1.5; parseKeepingDecimals parses as JSON.parse
 * does and notes, beside the parsed objects, the text of every number whose text a JavaScript number does not give back
 * ("1.50", "2.0", "1e2", more digits than a double holds); decimalText finds it again (FHIRPath's boundary functions in
 * views), and stringifyKeepingDecimals writes those numbers as they were written: a resource is stored, read, searched
 * and exported with the decimals its client sent. Cost: a request body is scanned by one regular expression
 * (mayHaveDecimalText); only a body that may hold such a number is parsed the slower way, and only a value that holds
 * one is serialised with a replacer.
 */
import { randomBytes } from 'node:crypto';

/** holder (object or array) -> member name or index -> the number's text as written. */
const TEXTS = new WeakMap<object, Map<string, string>>();
/** Objects and arrays that hold a noted text at any depth (the holders and their ancestors, as parsed). */
const MARKED = new WeakSet<object>();

/**
 * Whether JSON text may hold a number that JSON.parse would change when written back: a fraction ending in 0, an
 * exponent, 17 digits or more, or -0, each followed by what ends a JSON number outside a string. A string that looks
 * so only costs the slower parse, which finds nothing to keep.
 */
const MAY_KEEP = /\.\d*0\s*[,}\]]|\d[eE][+-]?\d+\s*[,}\]]|\d{17}|-0\s*[,}\]]/;

export function mayHaveDecimalText(text: string): boolean {
  return MAY_KEEP.test(text);
}

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
  // their numbers, and none is kept (the numbers' own precision is all there is).
  if (n !== literals.length) return value;
  for (const [holder, key, literal] of noted) {
    let map = TEXTS.get(holder);
    if (!map) TEXTS.set(holder, (map = new Map()));
    map.set(key, literal);
  }
  if (noted.length > 0) mark(value);
  return value;
}

/** Marks the objects and arrays on the way to a noted text; whether `value` holds one. */
function mark(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  let holds = TEXTS.has(value);
  if (Array.isArray(value)) {
    for (const item of value) if (mark(item)) holds = true;
  } else {
    for (const key in value) if (mark((value as Record<string, unknown>)[key])) holds = true;
  }
  if (holds) MARKED.add(value);
  return holds;
}

/** The text a decimal was written with, if parseKeepingDecimals noted one: `holder[key]`. */
export function decimalText(holder: object | null | undefined, key: string | number): string | undefined {
  return holder ? TEXTS.get(holder)?.get(String(key)) : undefined;
}

/** Whether a value (or one of its members, for a shallow copy of a parsed object) holds a noted text. */
export function holdsDecimalText(value: unknown): boolean {
  if (typeof value !== 'object' || value === null) return false;
  if (MARKED.has(value)) return true;
  for (const key in value) {
    const member = (value as Record<string, unknown>)[key];
    if (typeof member === 'object' && member !== null && MARKED.has(member)) return true;
  }
  return false;
}

/** A copy of `from` (made by the caller, key by key) keeps the texts of from's own numbers, and its mark. */
export function copyDecimalTexts(from: object, to: object): void {
  const texts = TEXTS.get(from);
  if (texts) TEXTS.set(to, texts);
  if (MARKED.has(from) || texts) MARKED.add(to);
}

/** The parent and member name a JSON Pointer's segments (decoded) lead to in `root`, and the objects on the way. */
function locate(root: object, path: readonly string[]): { holder: object; key: string; way: object[] } | undefined {
  let holder: unknown = root;
  const way: object[] = [root];
  for (const segment of path.slice(0, -1)) {
    holder = (holder as Record<string, unknown> | undefined)?.[segment];
    if (typeof holder !== 'object' || holder === null) return undefined;
    way.push(holder);
  }
  let key = path.at(-1);
  if (key === undefined || typeof holder !== 'object' || holder === null) return undefined;
  if (Array.isArray(holder) && key === '-') key = String(holder.length - 1);
  return { holder, key, way };
}

/** The noted text of the number at `path` in `root`, if any. */
export function decimalTextAt(root: object, path: readonly string[]): string | undefined {
  const at = locate(root, path);
  return at ? decimalText(at.holder, at.key) : undefined;
}

/**
 * After a JSON Patch operation wrote `path` of `root`: the number there keeps `text` when one is given (the operation's
 * own value as written, or the text of the number it copied), and the way to a written value that holds noted texts
 * is marked, so that the resource is serialised with them.
 */
export function noteWritten(root: object, path: readonly string[], text: string | undefined): void {
  const at = locate(root, path);
  if (!at) return;
  const value = (at.holder as Record<string, unknown>)[at.key];
  if (text !== undefined && typeof value === 'number') {
    let map = TEXTS.get(at.holder);
    if (!map) TEXTS.set(at.holder, (map = new Map()));
    map.set(at.key, text);
  } else if (!(typeof value === 'object' && value !== null && MARKED.has(value))) return;
  for (const o of at.way) MARKED.add(o);
}

/** Marks a value built around parsed parts (a Bundle of stored resources) as holding noted texts. */
export function markHolding(value: object): void {
  MARKED.add(value);
}

/** Placeholder strings a replacer gives for numbers written as noted; a nonce makes them unforgeable by a client. */
const NONCE = randomBytes(8).toString('hex');
const PLACEHOLDER = new RegExp(`"\\\\u0000${NONCE}:([-+.0-9eE]+)\\\\u0000"`, 'g');

function keepText(this: unknown, key: string, value: unknown): unknown {
  if (typeof value === 'number') {
    const text = TEXTS.get(this as object)?.get(key);
    // Only while the number is still the one written (a member changed since keeps its new value).
    if (text !== undefined && Number(text) === value) return `\u0000${NONCE}:${text}\u0000`;
  }
  return value;
}

/** JSON.stringify, writing each noted number with its text (only a value that holds one pays the replacer). */
export function stringifyKeepingDecimals(value: unknown, space?: number): string {
  if (!holdsDecimalText(value)) return JSON.stringify(value, null, space);
  return JSON.stringify(value, keepText, space).replace(PLACEHOLDER, '$1');
}

/** Stored (or any) JSON text parsed keeping its decimals' texts: JSON.parse unless the text may hold one. */
export function parseJsonKeepingDecimals(text: string): unknown {
  if (!mayHaveDecimalText(text)) return JSON.parse(text);
  try {
    return parseKeepingDecimals(text);
  } catch (err) {
    // JSON.parse's reviver walks the value recursively: nesting thousands deep exhausts the stack there, where a plain
    // parse does not. Parsed plainly, such a body meets the caller's own check (a 400 saying it nests too deep).
    if (err instanceof RangeError) return JSON.parse(text);
    throw err;
  }
}
