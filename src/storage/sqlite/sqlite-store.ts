/**
 * SQLite storage through better-sqlite3 (DESIGN §4): one file in WAL mode, a writer connection whose transactions
 * are serialised by a queue (async work must never run inside another request's open transaction), and a
 * separate reader connection that sees only committed data.
 */
import Database from 'better-sqlite3';
import fs from 'node:fs';
import path from 'node:path';
import type { CommitTracking, Queryer, Row, Store } from '../store.js';
import { render, type Sql } from '../../sql/sql.js';
import { sqliteDialect } from './dialect.js';
import { applyMigrations } from '../migrate.js';
import { Checkpointer } from './checkpointer.js';
import { SideWriter } from './side-writer.js';

export interface SqliteStoreOptions {
  /** Database file; `:memory:` is refused because the reader connection could not see the writer's data. */
  file: string;
  /** `NORMAL` (default) survives a process crash (kill -9); `FULL` also survives power loss, slower. */
  synchronous?: 'NORMAL' | 'FULL';
}

class Connection implements Queryer {
  private readonly statements = new Map<string, Database.Statement>();
  /** Rows changed through this connection (statements that write but return rows count one): did a work write? */
  writes = 0;
  /** The current group member's, while its work runs on this (writer) connection. */
  commits?: Member;
  private dataVersion?: Database.Statement;

  constructor(readonly db: Database.Database) {}

  externalVersion(): number {
    this.dataVersion ??= this.db.prepare('PRAGMA data_version').pluck();
    return Number(this.dataVersion.get());
  }

  private prepare(query: Sql): { stmt: Database.Statement; params: unknown[] } {
    const { text, params } = render(query, sqliteDialect);
    let stmt = this.statements.get(text);
    if (!stmt) {
      stmt = this.db.prepare(text);
      if (this.statements.size > 2000) this.statements.clear();
      this.statements.set(text, stmt);
    }
    return { stmt, params };
  }

  allSync<R extends Row>(query: Sql): R[] {
    const { stmt, params } = this.prepare(query);
    if (!stmt.readonly) this.writes++;
    return stmt.all(...params) as R[];
  }

  getSync<R extends Row>(query: Sql): R | undefined {
    const { stmt, params } = this.prepare(query);
    if (!stmt.readonly) this.writes++;
    return stmt.get(...params) as R | undefined;
  }

  runSync(query: Sql): { changes: number } {
    const { stmt, params } = this.prepare(query);
    const { changes } = stmt.run(...params);
    this.writes += changes;
    return { changes };
  }

  async all<R extends Row = Record<string, unknown>>(query: Sql): Promise<R[]> {
    return this.allSync<R>(query);
  }

  async get<R extends Row = Record<string, unknown>>(query: Sql): Promise<R | undefined> {
    return this.getSync<R>(query);
  }

  async run(query: Sql): Promise<{ changes: number }> {
    return this.runSync(query);
  }

  /** Statements of a migration (they may write anything). */
  exec(text: string): void {
    this.writes++;
    this.db.exec(text);
  }
}

/** A group member's place among the writers (CommitTracking, store.ts). */
class Member implements CommitTracking {
  readonly callbacks: Array<(previous: number, seq: number) => void> = [];
  constructor(
    private readonly connection: Connection,
    readonly committedBefore: number,
    readonly first: boolean,
  ) {}

  externalVersion(): number {
    return this.connection.externalVersion();
  }

  onCommit(fn: (previous: number, seq: number) => void): void {
    this.callbacks.push(fn);
  }
}

function open(file: string, readonly: boolean, synchronous: string): Database.Database {
  const db = new Database(file, { readonly, fileMustExist: readonly });
  db.pragma('busy_timeout = 10000');
  if (!readonly) {
    db.pragma('journal_mode = WAL');
    db.pragma(`synchronous = ${synchronous}`);
    // Checkpoints run on a worker (checkpointer.ts); this one, inside a COMMIT on the event loop, is the fallback
    // for a write load that never pauses long enough for the WAL to restart (~64 MB of WAL).
    db.pragma('wal_autocheckpoint = 16000');
  }
  db.pragma('cache_size = -65536');
  return db;
}

interface PendingWork<T> {
  work: (tx: Queryer) => Promise<T>;
  /** A batch for the side writer: runs alone, between group commits, with no transaction open on the writer. */
  aside?: boolean;
  resolve: (value: T) => void;
  reject: (error: unknown) => void;
}

/** Most transactions committed together; bounds the latency a group adds to its first member. */
const MAX_GROUP = 64;

export class SqliteStore implements Store {
  readonly dialect = sqliteDialect;
  readonly location: string;
  readonly reader: Queryer;
  private readonly writer: Connection;
  private readonly readConnection: Connection;
  private readonly checkpointer: Checkpointer;
  private readonly sideWriter: SideWriter;
  private queue: Promise<void> = Promise.resolve();
  private readonly pending: PendingWork<unknown>[] = [];
  private draining = false;
  /** In-process transactions that wrote and committed (CommitTracking.committedBefore). */
  private committed = 0;

  constructor(options: SqliteStoreOptions) {
    if (options.file === ':memory:') throw new Error('SQLite store needs a file: use a temporary directory');
    fs.mkdirSync(path.dirname(path.resolve(options.file)), { recursive: true });
    this.location = path.resolve(options.file);
    this.writer = new Connection(open(options.file, false, options.synchronous ?? 'NORMAL'));
    this.readConnection = new Connection(open(options.file, true, 'NORMAL'));
    this.reader = this.readConnection;
    this.checkpointer = new Checkpointer(this.location);
    this.sideWriter = new SideWriter(this.location, options.synchronous ?? 'NORMAL');
  }

  async migrate(): Promise<void> {
    await this.transaction((tx) => applyMigrations(tx, this.dialect, (text) => this.writer.exec(text)));
  }

  /**
   * Group commit: transactions that queue up while one runs are applied together, each inside its own SAVEPOINT (so
   * each is still all or nothing on its own), and committed with one COMMIT. Every caller hears back only after that
   * COMMIT, so an acknowledged write is durable; a busy server pays the commit's I/O once per group, not per request.
   * A group starts on setImmediate, after the I/O callbacks of the current event-loop turn: every request whose body
   * arrived in this turn joins it. Started at once, it would hold one transaction (the work is synchronous SQLite, so
   * nothing else queues while it runs) and each request would pay a COMMIT of its own.
   */
  transaction<T>(work: (tx: Queryer) => Promise<T>): Promise<T> {
    return this.enqueue({ work });
  }

  /**
   * Store.appendRows: one INSERT taking the rows apart from one JSON text (json_each; `->>` gives each value back as
   * the string, number or NULL it was), run like writeAside.
   */
  appendRows(table: string, columns: readonly string[], rows: ReadonlyArray<readonly unknown[]>): Promise<void> {
    const values = columns.map((_, i) => `e.value->>${i}`).join(', ');
    const text = `INSERT INTO ${table} (${columns.join(', ')}) SELECT ${values} FROM json_each(?) e`;
    return this.writeAside([[text, [JSON.stringify(rows)]]]);
  }

  /**
   * Statements run in one transaction on the side writer's connection (a worker thread, side-writer.ts), in the
   * writer's queue like a transaction but alone and with none open on the writer, so neither connection waits on the
   * other's lock; the event loop serves requests meanwhile.
   */
  private writeAside(rendered: Array<[string, unknown[]]>): Promise<void> {
    return this.enqueue({
      aside: true,
      work: async () => {
        await this.sideWriter.write(rendered);
        this.checkpointer.afterCommit();
      },
    });
  }

  private enqueue<T>(item: Pick<PendingWork<T>, 'work' | 'aside'>): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.pending.push({ ...item, resolve, reject } as PendingWork<unknown>);
      if (!this.draining) {
        this.draining = true;
        this.queue = new Promise<void>((started) => setImmediate(started)).then(() => this.drain());
      }
    });
  }

  private async drain(): Promise<void> {
    this.draining = true;
    try {
      while (this.pending.length > 0) {
        const first = this.pending[0];
        if (first.aside) {
          this.pending.shift();
          await first.work(this.writer).then(first.resolve, first.reject);
          continue;
        }
        let n = 1;
        while (n < this.pending.length && n < MAX_GROUP && !this.pending[n].aside) n++;
        await this.runGroup(this.pending.splice(0, n));
      }
    } finally {
      this.draining = false;
    }
  }

  /**
   * A group of one (every write when requests come one at a time) needs no SAVEPOINT: its transaction is its own, and
   * a failure rolls the whole transaction back. A SAVEPOINT makes SQLite copy every page the work changes, before
   * changing it, into a statement journal (a temporary file): hundreds of writes to it for a session's transaction.
   */
  private async runGroup(group: PendingWork<unknown>[]): Promise<void> {
    const savepoints = group.length > 1;
    const writer = this.writer;
    const outcomes: Array<{ ok: true; value: unknown; member: Member; wrote: boolean } | { ok: false; error: unknown }> = [];
    try {
      writer.db.exec('BEGIN IMMEDIATE');
      const writesAtBegin = writer.writes;
      for (const item of group) {
        if (savepoints) writer.db.exec('SAVEPOINT stride_work');
        const before = writer.writes;
        const member = new Member(writer, this.committed, before === writesAtBegin);
        writer.commits = member;
        try {
          const value = await item.work(writer);
          if (savepoints) writer.db.exec('RELEASE stride_work');
          outcomes.push({ ok: true, value, member, wrote: writer.writes !== before });
        } catch (error) {
          if (savepoints) {
            writer.db.exec('ROLLBACK TO stride_work');
            writer.db.exec('RELEASE stride_work');
          }
          outcomes.push({ ok: false, error });
        } finally {
          writer.commits = undefined;
        }
      }
      if (outcomes.some((o) => o.ok)) {
        writer.db.exec('COMMIT');
        this.checkpointer.afterCommit();
      } else {
        writer.db.exec('ROLLBACK');
      }
    } catch (error) {
      if (writer.db.inTransaction) writer.db.exec('ROLLBACK');
      for (const item of group) item.reject(error);
      return;
    }
    // Committed: each member that wrote takes the next number, and hears it before anything else runs.
    for (const outcome of outcomes) {
      if (!outcome.ok) continue;
      const previous = this.committed;
      if (outcome.wrote) this.committed++;
      for (const fn of outcome.member.callbacks) {
        try {
          fn(previous, this.committed);
        } catch {
          // A listener's failure is its own (the one in src/bots/committed.ts catches its errors): the commit stands.
        }
      }
    }
    group.forEach((item, i) => {
      const outcome = outcomes[i];
      if (outcome.ok) item.resolve(outcome.value);
      else item.reject(outcome.error);
    });
  }

  async analyze(): Promise<void> {
    // Nothing: see Store.analyze.
  }

  async close(): Promise<void> {
    await this.queue;
    await this.sideWriter.close();
    await this.checkpointer.close();
    this.readConnection.db.close();
    this.writer.db.close();
  }
}
