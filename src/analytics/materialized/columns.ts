/**
 * The columns of a materialised view's table: each view column's SQL type follows from its declared FHIR type, as the
 * Parquet files' do (views/formats/parquet.ts), and each value is converted once, the same way on both engines:
 * - boolean -> BOOLEAN (bound as 1 or 0: SQLite has no booleans, PostgreSQL reads '1' and '0' as true and false);
 * - integer, positiveInt, unsignedInt -> INTEGER; integer64 -> BIGINT; decimal -> NUMERIC (PostgreSQL) / REAL (SQLite);
 * - date -> DATE ('YYYY-MM-DD'); dateTime, instant -> TIMESTAMPTZ / ISO 8601 text in UTC; time -> TIME: a value given
 *   to a coarser precision (a year, a month, a date without a time) is stored at its start, as in the Parquet files;
 * - a collection (`collection: true`) -> JSONB / JSON text of the list, as $run's JSON gives it;
 * - any other type, or none -> TEXT (a complex value as its JSON text).
 * A value its column cannot hold (`abc` in an integer column) is stored as null and reported (hook.ts): a view's
 * problem must never refuse a client's write.
 */
import type { ViewColumnKind } from '../../sql/sql.js';
import type { CellValue, ColumnInfo } from '../views/types.js';

export interface TableColumn {
  name: string;
  kind: ViewColumnKind;
  /** The declared FHIR type, for messages. */
  type?: string;
}

const KINDS: Record<string, ViewColumnKind> = {
  boolean: 'boolean',
  integer: 'integer',
  positiveInt: 'integer',
  unsignedInt: 'integer',
  integer64: 'bigint',
  decimal: 'decimal',
  date: 'date',
  dateTime: 'timestamp',
  instant: 'timestamp',
  time: 'time',
};

export function tableColumns(columns: readonly ColumnInfo[]): TableColumn[] {
  return columns.map((c) => {
    const type = c.type?.replace(/^http:\/\/hl7\.org\/fhir\/StructureDefinition\//, '');
    return { name: c.name, type: c.type, kind: c.collection ? 'json' : (KINDS[type ?? ''] ?? 'text') };
  });
}

const DATE_START = /^(\d{4})(?:-(\d{2}))?(?:-(\d{2}))?$/;
const TIME = /^(\d{2})(?::(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?)?$/;
const INT32 = 2 ** 31;

/** The instant a date or dateTime starts at (a date, a month or a year at its first moment, in UTC). */
function startOf(text: string): Date | undefined {
  const m = DATE_START.exec(text);
  if (m) return new Date(Date.UTC(Number(m[1]), Number(m[2] ?? 1) - 1, Number(m[3] ?? 1)));
  const ms = Date.parse(text);
  return Number.isNaN(ms) ? undefined : new Date(ms);
}

function integerOf(value: CellValue): number | undefined {
  const n = typeof value === 'number' ? value : typeof value === 'string' && /^-?\d+$/.test(value) ? Number(value) : NaN;
  return Number.isInteger(n) && n >= -INT32 && n < INT32 ? n : undefined;
}

/**
 * The value as the column's SQL type takes it (null for null), or undefined when the column cannot hold it. Both
 * drivers bind these JavaScript values the same way.
 */
export function toColumnValue(column: TableColumn, value: CellValue | undefined): string | number | null | undefined {
  if (value === null || value === undefined) return null;
  switch (column.kind) {
    case 'boolean':
      return typeof value === 'boolean' ? (value ? 1 : 0) : undefined;
    case 'integer':
      return integerOf(value);
    case 'bigint':
      return (typeof value === 'number' && Number.isSafeInteger(value)) || (typeof value === 'string' && /^-?\d{1,19}$/.test(value)) ? String(value) : undefined;
    case 'decimal': {
      const n = typeof value === 'number' ? value : typeof value === 'string' && value.trim() !== '' ? Number(value) : NaN;
      return Number.isFinite(n) ? n : undefined;
    }
    case 'date': {
      const d = typeof value === 'string' ? startOf(value) : undefined;
      return d ? d.toISOString().slice(0, 10) : undefined;
    }
    case 'timestamp': {
      const d = typeof value === 'string' ? startOf(value) : undefined;
      return d ? d.toISOString() : undefined;
    }
    case 'time': {
      const m = typeof value === 'string' ? TIME.exec(value) : null;
      return m ? `${m[1]}:${m[2] ?? '00'}:${m[3] ?? '00'}.${(m[4] ?? '0').padEnd(3, '0').slice(0, 3)}` : undefined;
    }
    case 'json':
      return JSON.stringify(value);
    case 'text':
      return typeof value === 'object' ? JSON.stringify(value) : String(value);
  }
}
