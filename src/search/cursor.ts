/**
 * Keyset paging (R4 search.html#paging leaves the mechanism to the server): a page link carries the sort key values
 * of the row it continues from, so rows written while a client pages neither shift nor repeat the pages it has not
 * read yet. The cursor is opaque to clients (base64url JSON); its values are bound parameters like any other.
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { join, raw, sql, type Sql } from '../sql/sql.js';

export type CursorValue = string | number | null;

export interface Cursor {
  /** 'n': the page after the row; 'p': the page before it. */
  direction: 'n' | 'p';
  values: CursorValue[];
}

export function encodeCursor(cursor: Cursor): string {
  return Buffer.from(JSON.stringify([cursor.direction, ...cursor.values])).toString('base64url');
}

export function decodeCursor(text: string, length: number): Cursor {
  let parsed: unknown;
  try {
    parsed = JSON.parse(Buffer.from(text, 'base64url').toString('utf8'));
  } catch {
    parsed = undefined;
  }
  const ok =
    Array.isArray(parsed) &&
    (parsed[0] === 'n' || parsed[0] === 'p') &&
    parsed.length === length + 1 &&
    parsed.slice(1).every((v) => v === null || typeof v === 'string' || typeof v === 'number');
  if (!ok) throw new OperationOutcomeError(badRequest('_cursor is not a paging cursor of this search: follow the next/previous links as given', '_cursor'));
  const [direction, ...values] = parsed as ['n' | 'p', ...CursorValue[]];
  return { direction, values };
}

export interface KeysetColumn {
  /** Column of the page query's row (`q.<name>`). */
  name: string;
  descending: boolean;
  nullable: boolean;
}

/**
 * Rows strictly after (or before) the cursor in ORDER BY order, where NULLs sort last in both directions:
 * after k = v: `k > v OR k IS NULL OR (k = v AND <rest>)`; after k = NULL: `k IS NULL AND <rest>`.
 */
export function keysetCondition(columns: readonly KeysetColumn[], cursor: Cursor, i = 0): Sql {
  const { name, descending, nullable } = columns[i];
  const column = raw(`q.${name}`);
  const v = cursor.values[i];
  const last = i === columns.length - 1;
  const rest = last ? undefined : keysetCondition(columns, cursor, i + 1);
  const forward = cursor.direction === 'n';
  const op = raw(forward !== descending ? '>' : '<');
  if (v === null) {
    const nulls = rest ? sql`(${column} IS NULL AND ${rest})` : raw('1 = 0');
    return forward ? nulls : rest ? sql`(${column} IS NOT NULL OR ${nulls})` : sql`${column} IS NOT NULL`;
  }
  const parts: Sql[] = [sql`${column} ${op} ${v}`];
  if (nullable && forward) parts.push(sql`${column} IS NULL`);
  if (rest) parts.push(sql`(${column} = ${v} AND ${rest})`);
  return parts.length === 1 ? parts[0] : sql`(${join(parts, ' OR ')})`;
}

/** ORDER BY for the page direction: reversed (and NULLs first) when reading the page before a cursor. */
export function orderBy(columns: readonly KeysetColumn[], backwards: boolean): Sql {
  return join(
    columns.map(({ name, descending, nullable }) => {
      const column = raw(`q.${name}`);
      const desc = descending !== backwards;
      const nulls = nullable ? (backwards ? ' NULLS FIRST' : ' NULLS LAST') : '';
      return sql`${column} ${raw(desc ? 'DESC' : 'ASC')}${raw(nulls)}`;
    }),
    ', ',
  );
}
