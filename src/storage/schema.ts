/**
 * Versioned migrations, one logical schema for every engine (DESIGN §4). Plain column types only; the dialect
 * supplies the one spelling that differs (an auto-increment key).
 */
import type { Dialect } from '../sql/sql.js';
import { exportTables } from '../analytics/export-schema.js';
import { materializedViewTables } from '../analytics/materialized/schema.js';
import { moneyTables } from '../money/schema.js';
import { authTables } from '../auth/schema.js';
import { jobTables } from '../jobs/schema.js';
import { auditTables } from '../auth/audit-store.js';
import { moveStoredAuditEvents } from '../auth/audit-migration.js';
import type { Queryer } from './store.js';

export interface Migration {
  version: number;
  name: string;
  statements(dialect: Dialect): string[];
  /** Data moved once the statements ran, in the same transaction. */
  after?(tx: Queryer, dialect: Dialect): Promise<void>;
}

/** The search index tables of migration 2, without their `search_` prefix (a migration's list does not change). */
const INDEX_TABLE_NAMES = ['token', 'string', 'reference', 'date', 'number', 'quantity', 'uri', 'composite'] as const;

export const MIGRATIONS: readonly Migration[] = [
  {
    version: 1,
    name: 'resource and history',
    statements: (d) => [
      `CREATE TABLE resource (
        resource_type VARCHAR(64) NOT NULL,
        id VARCHAR(64) NOT NULL,
        version_id INTEGER NOT NULL,
        last_updated BIGINT NOT NULL,
        deleted INTEGER NOT NULL,
        content TEXT NOT NULL,
        PRIMARY KEY (resource_type, id)
      )`,
      `CREATE TABLE resource_history (
        seq ${d.autoIncrementKey},
        resource_type VARCHAR(64) NOT NULL,
        id VARCHAR(64) NOT NULL,
        version_id INTEGER NOT NULL,
        last_updated BIGINT NOT NULL,
        deleted INTEGER NOT NULL,
        content TEXT NOT NULL
      )`,
      // Every index costs each write a b-tree page: history has only what its three scopes need.
      `CREATE UNIQUE INDEX resource_history_version ON resource_history (resource_type, id, version_id)`,
      `CREATE INDEX resource_history_type_seq ON resource_history (resource_type, seq)`,
    ],
  },
  {
    version: 2,
    name: 'search index tables',
    statements: searchIndexTables,
  },
  {
    version: 3,
    name: 'covering composite indexes',
    // The common `code$[prefix]value` search: the code's rows, then the value range on high, without a table read.
    statements: () => [
      'DROP INDEX search_composite_1',
      'DROP INDEX search_composite_2',
      'CREATE INDEX search_composite_code_value ON search_composite (c1_code_hash, c2_high, c2_low, id)',
      'CREATE INDEX search_composite_system_code_value ON search_composite (c1_system_code_hash, c2_high, c2_low, id)',
    ],
  },
  {
    version: 4,
    name: 'rows of a resource found by id first',
    // Server-assigned ids follow the clock (repo/meta.ts newId): keyed id first, the rows of every resource a
    // transaction writes, whatever its type, go to the same right-most pages of these indexes, where keyed type
    // first they went to one page per type, each a WAL frame at commit (SQLite). Every query these serve has both
    // the id and the type (a resource's rows: removal, _sort, :not, :missing, _include; a resource's versions).
    statements: () => [
      ...INDEX_TABLE_NAMES.flatMap((table) => [
        `DROP INDEX search_${table}_resource`,
        `CREATE INDEX search_${table}_resource ON search_${table} (id, resource_type, param)`,
      ]),
      'DROP INDEX resource_history_version',
      'CREATE UNIQUE INDEX resource_history_version ON resource_history (id, resource_type, version_id)',
    ],
  },
  {
    version: 5,
    name: 'one index for token codes',
    // A token row's code hash and system|code hash had an index each, every distinct value a page of its own at each
    // write (hashes scatter). One index serves both: a `code` search reads its code's rows in id order (the order
    // search pages follow), a `system|code` search the same rows, keeping those whose system|code hash matches from
    // the index entry itself (the rows of one parameter with the same code in another system are read and skipped).
    statements: () => ['DROP INDEX search_token_1', 'DROP INDEX search_token_2', 'CREATE INDEX search_token_code ON search_token (code_hash, id, system_code_hash)'],
  },
  {
    version: 6,
    name: 'bulk export jobs and files',
    statements: exportTables,
  },
  {
    version: 7,
    name: 'X12 control numbers',
    // ISA13, GS06 and ST02 of the 837P files $submit writes: unique and increasing for ever (src/claims/control-numbers.ts).
    statements: () => [
      'CREATE TABLE x12_counter (name VARCHAR(32) NOT NULL PRIMARY KEY, value BIGINT NOT NULL)',
      "INSERT INTO x12_counter (name, value) VALUES ('interchange', 0), ('group', 0), ('transaction', 0)",
    ],
  },
  {
    version: 8,
    name: 'materialised views',
    // Tables of SQL on FHIR views kept current on every write (src/analytics/materialized/).
    statements: materializedViewTables,
  },
  {
    version: 10,
    name: 'money ledger',
    // Postings and per-claim balances kept current in the write's transaction (src/money/): $aging reads one row a claim.
    statements: moneyTables,
  },
  {
    version: 11,
    name: 'SMART backend services clients',
    // Registered clients, seen assertion ids and the token-signing secret (src/auth/schema.ts).
    statements: authTables,
  },
  {
    version: 12,
    name: 'scheduled job runs and sent messages',
    // Exactly-once runs (a unique (job, slot) key and a lease) and messages (a unique key per invoice and step): src/jobs/schema.ts.
    statements: jobTables,
  },
  {
    version: 13,
    name: 'the audit trail table',
    // An access is a row of its own table, its AuditEvent built when read (src/auth/audit-store.ts); AuditEvents
    // stored as resources before move into it.
    statements: auditTables,
    after: async (tx) => void (await moveStoredAuditEvents(tx)),
  },
];

/**
 * The search index (DESIGN §4, src/search/tables.ts): a table per parameter type, plain columns. Tokens and
 * composite codes are found by 53-bit hashes of type|param|[system|]code; references by (target type, target id),
 * which chains, _has and _revinclude join on; dates as [low, high] epoch milliseconds; strings normalised (lower
 * case, no accents) and compared in code point order for prefix ranges. Every table also has (resource_type, id,
 * param) for removing a resource's rows, for sorting and for the correlated checks of :not and :missing (id first
 * since migration 4).
 */
function searchIndexTables(d: Dialect): string[] {
  const owner = `resource_type VARCHAR(64) NOT NULL, id VARCHAR(64) NOT NULL, param VARCHAR(128) NOT NULL`;
  const text = (n: number): string => `VARCHAR(${n})${d.binaryCollation}`;
  const tables: Array<[string, string, string[]]> = [
    ['search_token', `system VARCHAR(512) NOT NULL, code VARCHAR(512) NOT NULL, code_hash BIGINT NOT NULL, system_code_hash BIGINT NOT NULL`, ['code_hash, id', 'system_code_hash, id']],
    ['search_string', `value ${text(255)} NOT NULL, exact VARCHAR(1000) NOT NULL`, ['resource_type, param, value']],
    ['search_reference', `target_type VARCHAR(64) NOT NULL, target_id VARCHAR(2000) NOT NULL`, ['target_type, target_id, resource_type, param']],
    ['search_date', `low BIGINT NOT NULL, high BIGINT NOT NULL`, ['resource_type, param, low', 'resource_type, param, high']],
    ['search_number', `low DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL`, ['resource_type, param, low']],
    ['search_quantity', `system VARCHAR(512) NOT NULL, code VARCHAR(512) NOT NULL, low DOUBLE PRECISION NOT NULL, high DOUBLE PRECISION NOT NULL`, ['resource_type, param, low']],
    ['search_uri', `value ${text(2000)} NOT NULL`, ['resource_type, param, value']],
    [
      'search_composite',
      `c1_code_hash BIGINT NOT NULL, c1_system_code_hash BIGINT NOT NULL, c2_code_hash BIGINT, c2_system_code_hash BIGINT, c2_low DOUBLE PRECISION, c2_high DOUBLE PRECISION, c2_text ${text(255)}`,
      ['c1_code_hash', 'c1_system_code_hash'],
    ],
  ];
  return tables.flatMap(([table, columns, indexes]) => [
    `CREATE TABLE ${table} (${owner}, ${columns})`,
    `CREATE INDEX ${table}_resource ON ${table} (resource_type, id, param)`,
    ...indexes.map((columns, i) => `CREATE INDEX ${table}_${i + 1} ON ${table} (${columns})`),
  ]);
}
