/**
 * The search index tables (DESIGN §4; created by migration 2 of src/storage/schema.ts): one per parameter type,
 * plain columns only. Every row starts with the resource it belongs to and the parameter code; the columns after
 * that are listed here in insert order.
 */
export const INDEX_TABLES = {
  token: { name: 'search_token', columns: ['system', 'code', 'code_hash', 'system_code_hash'] },
  string: { name: 'search_string', columns: ['value', 'exact'] },
  reference: { name: 'search_reference', columns: ['target_type', 'target_id'] },
  date: { name: 'search_date', columns: ['low', 'high'] },
  number: { name: 'search_number', columns: ['low', 'high'] },
  quantity: { name: 'search_quantity', columns: ['system', 'code', 'low', 'high'] },
  uri: { name: 'search_uri', columns: ['value'] },
  composite: {
    name: 'search_composite',
    columns: ['c1_code_hash', 'c1_system_code_hash', 'c2_code_hash', 'c2_system_code_hash', 'c2_low', 'c2_high', 'c2_text'],
  },
} as const;

export type IndexTable = keyof typeof INDEX_TABLES;

export const INDEX_TABLE_NAMES: readonly IndexTable[] = Object.keys(INDEX_TABLES) as IndexTable[];

/**
 * Index rows of one resource, per table: `[param, ...columns]` (resource type and id are added on insert). A row
 * given a key is kept once per key: the same code or text often appears twice in one resource.
 */
export class IndexRows {
  readonly rows = new Map<IndexTable, unknown[][]>();
  private readonly seen = new Set<string | number>();
  size = 0;

  add(table: IndexTable, row: unknown[], key?: string | number): void {
    if (key !== undefined) {
      if (this.seen.has(key)) return;
      this.seen.add(key);
    }
    let list = this.rows.get(table);
    if (!list) this.rows.set(table, (list = []));
    list.push(row);
    this.size++;
  }
}

/** Dates are stored as epoch milliseconds; an open end of a period is stored as the far past or far future. */
export const MIN_TIME = -62135596800000; // 0001-01-01T00:00:00.000Z
export const MAX_TIME = 253402300799999; // 9999-12-31T23:59:59.999Z
/** Numbers and quantities: the bounds of an open Range. */
export const MIN_NUMBER = -1e300;
export const MAX_NUMBER = 1e300;
