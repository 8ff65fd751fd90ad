/**
 * Committed data kept in memory between writes, for the bots' reads and searches. Every session write asks the same
 * questions (the plan of care, the goals, the practitioners; the episode's sessions, the patient's prior level of
 * function), and most answers have not changed since the last write that asked. Asking the database again cost
 * about as much as everything else the documentation bot does.
 *
 * Correctness rests on seeing every change (storage CommitTracking, store.ts):
 * - in this process, each writing transaction commits with the next number of a sequence, and the bots' hook of
 *   each repository transaction replays, at its commit, what it read and then what it wrote (every version, with the
 *   index rows a search matches it by; the last version of each resource wins). A committed number it did not replay
 *   (a write that was not a repository transaction, one that ran without the hook) empties the cache;
 * - another connection's commit (`stride import` beside `stride serve` on one SQLite file) changes the database's
 *   external version, which empties the cache at the next transaction;
 * - a transaction uses the cache only when no other transaction's uncommitted writes are visible to it (the first of
 *   its group commit), and sees its own writes by replaying them over the cached answer; others ask the database.
 * Engines that cannot tell (PostgreSQL: several servers share the database) have no cache.
 *
 * A search is kept when each of its conditions is one the index rows of a version decide alone: a reference
 * parameter with `Type/id` values, a token parameter with `code`, `|code` or `system|code` values (the hashes the
 * index tables hold), no modifiers; the answer is every match, in id order, as the searcher returns it.
 */
import type { Repository, StoredResource } from '../repo/repository.js';
import { keepWrittenObject } from './context.js';
import { lookupHash } from '../search/hash.js';
import { parseConditions, RESULT_PARAMETERS } from '../search/parse.js';
import { parseReference } from '../search/params/reference.js';
import type { IndexRows } from '../search/tables.js';
import { splitSystem } from '../search/values.js';
import { loadDefinitions } from '../validation/definitions.js';

/** Resources and searches kept (least recently used goes first). */
const MAX_READS = 5000;
const MAX_SEARCHES = 2000;
/**
 * Matches held by all kept searches together: each is a stored version's text, and its parse once read (context.ts),
 * a few KB each for a session's Encounter: ~20,000 of them is some 100 MB at most.
 */
const MAX_ROWS = 20_000;

type Query = Record<string, string[]>;

/**
 * One condition of a kept search, an OR of values: token hashes (of `code` or `system|code`, scoped to the type and
 * parameter as the index's are), and reference targets by target id (with the parameter and target type each needs).
 */
interface Condition {
  hashes: Set<number>;
  refs: Map<string, Array<[param: string, type: string]>>;
}

/** A kept search: its conditions (all must match) and its committed answer. */
interface Kept {
  key: string;
  type: string;
  conditions: Condition[];
  /** Current versions matching, in id order. */
  rows: StoredResource[];
  /** Most matches the asker reads: an answer grown to it is no longer kept. */
  limit: number;
}

/** One transaction's use of the cache; replayed into it when the transaction commits. */
export class TransactionView {
  /**
   * What was read from the database. Replayed before the transaction's changes: an answer read after a change
   * already holds it, and one read before it gets it from the replay (the last version of each resource wins).
   */
  readonly fills: Array<{ read?: [string, StoredResource | null]; search?: Kept }> = [];

  constructor(
    private readonly cache: CommittedCache,
    private readonly tx: Repository,
    /** Whether the cache may answer (else the transaction only fills it). */
    readonly usable: boolean,
  ) {}

  /**
   * The current committed version of `Type/id` as `readCurrent` returns it (a deletion too; null: there never was
   * one), undefined when not kept. The caller reads what its own transaction wrote from its changes.
   */
  read(key: string): StoredResource | null | undefined {
    return this.usable ? this.cache.read(key) : undefined;
  }

  fillRead(key: string, stored: StoredResource | undefined): void {
    this.fills.push({ read: [key, stored ? slim(stored) : null] });
  }

  /** The answer as the database would give it now: the committed one, with this transaction's writes replayed. */
  search(type: string, query: Query): StoredResource[] | undefined {
    const kept = this.usable ? this.cache.search(searchKey(type, query)) : undefined;
    return kept && withChanges({ ...kept, rows: [...kept.rows] }, this.tx.changes);
  }

  fillSearch(type: string, query: Query, rows: StoredResource[], limit: number): void {
    if (rows.length >= limit) return; // perhaps not every match
    const conditions = keepable(type, query);
    if (conditions) this.fills.push({ search: { key: searchKey(type, query), type, conditions, rows: rows.map(slim), limit } });
  }
}

/**
 * A search's answer as a transaction would see it, from the committed answer read beside the transaction (on
 * PostgreSQL, the read pool, where several run at once) with the transaction's own writes replayed over it; undefined
 * for a search the index rows do not decide alone (it must run in the transaction) or a committed answer that may be
 * cut short (`limit` rows or more).
 */
export async function searchBeside(
  type: string,
  query: Query,
  limit: number,
  committed: () => Promise<StoredResource[]>,
  changes: readonly StoredResource[],
): Promise<StoredResource[] | undefined> {
  const conditions = keepable(type, query);
  if (!conditions) return undefined;
  const rows = await committed();
  return rows.length >= limit ? undefined : withChanges({ key: '', type, conditions, rows, limit }, changes);
}

/**
 * A committed answer (`own`, changed in place) with a transaction's writes so far replayed over it, in order: the last
 * version of each wins, as the transaction's own search sees it.
 */
function withChanges(own: Kept, changes: readonly StoredResource[]): StoredResource[] {
  for (const change of changes) if (change.resourceType === own.type) replay(own, change);
  return own.rows;
}

export class CommittedCache {
  private readonly reads = new Map<string, StoredResource | null>();
  private readonly searches = new Map<string, Kept>();
  /** Token hash / reference target id -> the kept searches whose first condition has it: a new version can match only those. */
  private readonly byHash = new Map<number, Set<Kept>>();
  private readonly byRef = new Map<string, Set<Kept>>();
  /** `Type/id` -> the kept searches whose answer holds it. */
  private readonly byMember = new Map<string, Set<Kept>>();
  /** Resource type -> how many kept searches are of it. */
  private readonly types = new Map<string, number>();
  /** Matches held by the kept searches. */
  private rows = 0;
  private seq = -1;
  private external = Number.NaN;
  /** Cleared because something was not seen (for tests and the logs). */
  clears = 0;

  /** The view of a write transaction; undefined when the engine cannot tell what other writers did. */
  open(tx: Repository): TransactionView | undefined {
    const commits = tx.db.commits;
    if (!commits) return undefined;
    const external = commits.externalVersion();
    if (external !== this.external) {
      this.clear();
      this.external = external;
    }
    if (commits.first && commits.committedBefore !== this.seq) {
      this.clear();
      this.seq = commits.committedBefore;
    }
    const view = new TransactionView(this, tx, commits.first);
    commits.onCommit((previous, seq) => this.commit(previous, seq, tx.changes, view));
    return view;
  }

  read(key: string): StoredResource | null | undefined {
    const hit = this.reads.get(key);
    if (hit !== undefined) touch(this.reads, key, hit);
    return hit;
  }

  search(key: string): Kept | undefined {
    const hit = this.searches.get(key);
    if (hit) touch(this.searches, key, hit);
    return hit;
  }

  get size(): { reads: number; searches: number } {
    return { reads: this.reads.size, searches: this.searches.size };
  }

  /** A transaction committed: its reads and writes, in the order they happened, become the committed state. */
  private commit(previous: number, seq: number, changes: readonly StoredResource[], view: TransactionView): void {
    try {
      if (previous !== this.seq) {
        this.clear();
      } else {
        for (const fill of view.fills) this.fill(fill);
        for (const change of changes) this.change(change);
      }
      this.seq = seq;
    } catch {
      // Never let the cache fail a commit: forget everything instead.
      this.clear();
      this.seq = Number.NaN;
    }
  }

  private fill({ read, search }: TransactionView['fills'][number]): void {
    if (read) {
      this.reads.set(read[0], read[1]);
      if (this.reads.size > MAX_READS) this.reads.delete(this.reads.keys().next().value as string);
    }
    if (search) {
      const old = this.searches.get(search.key);
      if (old) this.drop(old);
      this.searches.set(search.key, search);
      this.types.set(search.type, (this.types.get(search.type) ?? 0) + 1);
      for (const hash of search.conditions[0].hashes) index(this.byHash, hash, search);
      for (const id of search.conditions[0].refs.keys()) index(this.byRef, id, search);
      for (const row of search.rows) index(this.byMember, keyOf(row), search);
      this.rows += search.rows.length;
      while (this.searches.size > MAX_SEARCHES || this.rows > MAX_ROWS) this.drop(this.searches.values().next().value as Kept);
    }
  }

  private change(stored: StoredResource): void {
    const key = keyOf(stored);
    // One committed copy for every answer that holds it, and the object the write stored for its readers: made when
    // the first one takes it (most of a write's versions join none: a session's Procedures, a finding's Provenance).
    let version: StoredResource | undefined;
    const committed = (): StoredResource => {
      if (!version) {
        version = slim(stored);
        if (stored.resource) keepWrittenObject(version, stored.resource);
      }
      return version;
    };
    if (this.reads.has(key)) this.reads.set(key, committed());
    if (!this.types.has(stored.resourceType)) return;
    const touched = new Set(this.byMember.get(key));
    const rows = stored.deleted ? undefined : stored.indexRows?.rows;
    for (const row of rows?.get('token') ?? []) {
      for (const kept of this.byHash.get(row[3] as number) ?? []) touched.add(kept);
      for (const kept of this.byHash.get(row[4] as number) ?? []) touched.add(kept);
    }
    for (const row of rows?.get('reference') ?? []) for (const kept of this.byRef.get(row[2] as string) ?? []) touched.add(kept);
    for (const kept of touched) {
      if (kept.type !== stored.resourceType) continue;
      const before = kept.rows.length;
      const at = replay(kept, stored, committed);
      if (at === undefined) continue;
      this.rows += kept.rows.length - before;
      if (kept.rows.length >= kept.limit) {
        this.drop(kept);
        continue;
      }
      if (kept.rows.length < before) unindex(this.byMember, key, kept);
      else if (kept.rows.length > before) index(this.byMember, key, kept);
    }
  }

  private drop(kept: Kept): void {
    this.searches.delete(kept.key);
    const n = (this.types.get(kept.type) ?? 1) - 1;
    if (n > 0) this.types.set(kept.type, n);
    else this.types.delete(kept.type);
    for (const hash of kept.conditions[0].hashes) unindex(this.byHash, hash, kept);
    for (const id of kept.conditions[0].refs.keys()) unindex(this.byRef, id, kept);
    for (const row of kept.rows) unindex(this.byMember, keyOf(row), kept);
    this.rows -= kept.rows.length;
  }

  private clear(): void {
    if (this.reads.size || this.searches.size) this.clears++;
    this.reads.clear();
    this.searches.clear();
    this.byHash.clear();
    this.byRef.clear();
    this.byMember.clear();
    this.types.clear();
    this.rows = 0;
  }
}

/**
 * Applies one written version to an answer: the previous version leaves it, the new one joins it (in id order) when
 * it matches. Returns where it changed the answer, undefined when it did not.
 */
function replay(kept: Kept, stored: StoredResource, version: () => StoredResource = () => slim(stored)): number | undefined {
  const id = stored.id;
  let at = lowerBound(kept.rows, id);
  const present = at < kept.rows.length && kept.rows[at].id === id;
  const matches = !stored.deleted && kept.conditions.every((c) => matchesOne(c, stored.indexRows));
  if (present && matches) kept.rows[at] = version();
  else if (present) kept.rows.splice(at, 1);
  else if (matches) kept.rows.splice(at, 0, version());
  else at = -1;
  return at < 0 ? undefined : at;
}

/** Whether a version's index rows (src/search/tables.ts) satisfy one condition, as the searcher's SQL decides it. */
function matchesOne(c: Condition, indexRows: IndexRows | undefined): boolean {
  const rows = indexRows?.rows;
  if (c.hashes.size) for (const row of rows?.get('token') ?? []) if (c.hashes.has(row[3] as number) || c.hashes.has(row[4] as number)) return true;
  if (c.refs.size) {
    for (const row of rows?.get('reference') ?? []) if (c.refs.get(row[2] as string)?.some(([param, type]) => param === row[0] && type === row[1])) return true;
  }
  return false;
}

/** First index whose id is not below `id` (ids are ASCII: JavaScript and SQLite's BINARY order agree). */
function lowerBound(rows: StoredResource[], id: string): number {
  let lo = 0;
  let hi = rows.length;
  while (lo < hi) {
    const mid = (lo + hi) >> 1;
    if (rows[mid].id < id) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The conditions of a search the index rows decide alone (see matchesOne); undefined for any other search.
 * Parsed as the searcher parses it, so a value it would refuse is never kept (the search ran, and succeeded, first).
 */
function keepable(type: string, query: Query): Condition[] | undefined {
  if (Object.keys(query).some((name) => RESULT_PARAMETERS.has(name.split(':')[0]))) return undefined;
  const { conditions, unknown } = parseConditions(type, query);
  if (unknown.length || conditions.length === 0) return undefined;
  const out: Condition[] = [];
  for (const c of conditions) {
    if (c.kind !== 'param' || c.modifier !== '' || c.def.column) return undefined;
    const condition: Condition = { hashes: new Set(), refs: new Map() };
    for (const value of c.values) {
      if (value.includes('\\')) return undefined;
      if (c.def.type === 'reference') {
        // `Type/id` (or `Type/id/_history/n`) as the searcher reads it; not an absolute URL or a bare id.
        const target = parseReference(value);
        if (!target?.type || !loadDefinitions().resourceTypeSet.has(target.type)) return undefined;
        const wanted = condition.refs.get(target.id) ?? [];
        wanted.push([c.def.code, target.type]);
        condition.refs.set(target.id, wanted);
      } else if (c.def.type === 'token') {
        const { system, code } = splitSystem(value);
        if (code === '') return undefined;
        condition.hashes.add(lookupHash(c.def.resourceType, c.def.code, system === undefined ? code : `${system}|${code}`));
      } else {
        return undefined;
      }
    }
    out.push(condition);
  }
  return out;
}

function searchKey(type: string, query: Query): string {
  return `${type}?${JSON.stringify(query)}`;
}

function keyOf(stored: StoredResource): string {
  return `${stored.resourceType}/${stored.id}`;
}

/** A stored version without the transaction's objects (its parse, its index rows): what the cache holds. */
function slim(stored: StoredResource): StoredResource {
  const { resourceType, id, versionId, lastUpdated, deleted, json } = stored;
  return { resourceType, id, versionId, lastUpdated, deleted, json };
}

function touch<V>(map: Map<string, V>, key: string, value: V): void {
  map.delete(key);
  map.set(key, value);
}

function index<K>(map: Map<K, Set<Kept>>, key: K, kept: Kept): void {
  let set = map.get(key);
  if (!set) map.set(key, (set = new Set()));
  set.add(kept);
}

function unindex<K>(map: Map<K, Set<Kept>>, key: K, kept: Kept): void {
  const set = map.get(key);
  if (set?.delete(kept) && set.size === 0) map.delete(key);
}
