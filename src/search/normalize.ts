/**
 * String normalisation shared by indexing and searching (R4 search.html#string: matching is case- and
 * accent-insensitive): decompose, drop the combining marks, lower-case. Stored values are cut to a length an index
 * entry can hold on every engine; the search value is cut the same way so that a prefix still matches.
 */
export const MAX_STRING_LENGTH = 255;
export const MAX_EXACT_LENGTH = 1000;

const COMBINING_MARKS = /[\u0300-\u036f]/g;

export function normalizeString(value: string): string {
  const folded = value.normalize('NFD').replace(COMBINING_MARKS, '').toLowerCase();
  return folded.length > MAX_STRING_LENGTH ? folded.slice(0, MAX_STRING_LENGTH) : folded;
}

/** The smallest string greater than every string that starts with `prefix` (byte and code point order). */
export function prefixUpperBound(prefix: string): string {
  return `${prefix}\u{10FFFF}`;
}

/** Escapes `%`, `_` and the escape character itself for a LIKE pattern written with `ESCAPE '\'`. */
export function escapeLike(value: string): string {
  return value.replace(/[\\%_]/g, (c) => `\\${c}`);
}
