/**
 * The storage contract (DESIGN §4). Everything above src/storage/ talks to a database through these types only;
 * engine differences live in src/storage/<dialect>/.
 */
import type { Dialect, Sql } from '../sql/sql.js';

export type Row = object;

/** Runs dialect-free SQL on one connection (or one open transaction). */
export interface Queryer {
  all<R extends Row = Record<string, unknown>>(query: Sql): Promise<R[]>;
  get<R extends Row = Record<string, unknown>>(query: Sql): Promise<R | undefined>;
  run(query: Sql): Promise<{ changes: number }>;
  /**
   * Inside a write transaction, on an engine that can tell cheaply what other writers did (SQLite): what lets a
   * process keep committed data in memory between transactions (src/bots/committed.ts). Absent otherwise.
   */
  readonly commits?: CommitTracking;
}

/**
 * How a write transaction stands among the others. In-process writers commit one after another, each writing one
 * numbered in a sequence; other connections (another process on the same database) are seen through a version that
 * changes when they commit.
 */
export interface CommitTracking {
  /** Changes whenever another connection has committed (SQLite's `PRAGMA data_version`); stable in a transaction. */
  externalVersion(): number;
  /** Sequence number of the last in-process transaction that wrote and committed before this one began. */
  readonly committedBefore: number;
  /** No other transaction's uncommitted writes are visible to this one (it is the first of its group commit). */
  readonly first: boolean;
  /**
   * Runs `fn` right after this transaction commits (never if it rolls back), before any later transaction starts,
   * with the sequence number before it (what the transactions committed ahead of it reached) and its own (one more
   * when it wrote, else the same).
   */
  onCommit(fn: (previous: number, seq: number) => void): void;
}

export interface TransactionOptions {
  /** Retries allowed when the engine reports a serialization conflict (PostgreSQL); SQLite never needs one. */
  retries?: number;
}

export interface Store {
  readonly dialect: Dialect;
  /** Where the data lives, for start-up messages (a file path or a redacted URL). */
  readonly location: string;
  /** Reads outside any write transaction: they see only committed data. */
  readonly reader: Queryer;
  /** Applies migrations not yet applied; safe to call from several processes at once. */
  migrate(): Promise<void>;
  /**
   * Runs `work` inside one database transaction: it commits when `work` resolves and rolls back when it throws.
   * Write transactions never interleave with each other on one connection.
   */
  transaction<T>(work: (tx: Queryer) => Promise<T>, options?: TransactionOptions): Promise<T>;
  /**
   * Appends rows to a table that nothing reads back in the same work (the audit trail): all of them or none, in the
   * engine's cheapest bulk form and off the event loop where it can be. SQLite: one INSERT of the rows as one JSON
   * value, on a worker thread's connection; PostgreSQL: COPY FROM STDIN on a connection of its own. A value is a
   * string, a number or null.
   */
  appendRows(table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): Promise<void>;
  /**
   * Refreshes the planner's statistics after a bulk load (`stride import` calls it at the end). PostgreSQL plans
   * from statistics, and a freshly loaded table without them gets nested loops over tens of thousands of rows;
   * SQLite's plans follow the queries' shapes (src/search) and need nothing.
   */
  analyze(): Promise<void>;
  close(): Promise<void>;
}

/** A stored version of a resource as the repository sees it. */
export interface ResourceRow {
  resource_type: string;
  id: string;
  version_id: number;
  last_updated: number;
  deleted: number;
  content: string;
}
