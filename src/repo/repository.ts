/**
 * The repository: ids, versions, meta, history and transactions (DESIGN §1). Every write validates, stores the
 * current row and a history row, and indexes, in one database transaction.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { Queryer, ResourceRow, Store } from '../storage/store.js';
import type { Indexer, ResourceRows, Searcher, SearchQuery, SearchResult } from '../search/types.js';
import type { IndexRows } from '../search/tables.js';
import { assertValid, type Validator } from '../validation/validator.js';
import { conflict, gone, notFound, preconditionFailed } from '../fhir/outcomes.js';
import { assertStorableType } from './rest-types.js';
import { assertValidId, isValidId, newId, nextTimestamp, stamp } from './meta.js';
import { AUDIT_TYPE, readAuditEvent, readAuditEvents } from '../auth/audit-store.js';
import { refuseAuditReach, searchAuditEvents } from '../auth/audit-search.js';
import { insertCurrent, insertHistory, selectCurrent, selectCurrentMany, selectVersion, updateCurrent, writeVersionRows } from './queries.js';

export interface RepositoryDeps {
  store: Store;
  validator: Validator;
  searcher: Searcher;
  indexer?: Indexer;
  /** Runs at the end of every outermost transaction, before it commits: the bots (DESIGN §6, src/bots/). */
  hook?: WriteHook;
}

/** Called with the transaction's repository once its work is done: it may write through `tx` and add `tx.findings`. */
export interface WriteHook {
  afterWrite(tx: Repository): Promise<void>;
}

export interface StoredResource {
  resourceType: string;
  id: string;
  versionId: number;
  /** Epoch milliseconds. */
  lastUpdated: number;
  deleted: boolean;
  /** The stored JSON text ('' for a deletion). */
  json: string;
  /**
   * The same resource as an object, when this transaction wrote it (the bots read it without parsing `json` again).
   * Shared, never to be modified.
   */
  resource?: Resource;
  /** The search index rows this transaction wrote for it (what a search would match it by). */
  indexRows?: IndexRows;
}

export interface WriteResult {
  stored: StoredResource;
  /** The resource as stored (undefined for a deletion). */
  resource?: Resource;
  created: boolean;
  /** Non-blocking issues found on the way (validation warnings, later: bot findings). */
  issues: OperationOutcomeIssue[];
}

export interface UpdateOptions {
  /** Version the client says it is updating (If-Match); a different current version is a 412. */
  ifMatch?: number | '*';
  /**
   * The caller expects no version yet (an id derived from a resource this transaction created: a bot's finding): the
   * version is inserted without reading the current row first, and only if a row is there after all (the insert
   * changes nothing) is it read and the update made as usual. A read less per write (a round trip on PostgreSQL).
   * Not with ifMatch, which needs the current version.
   */
  expectNew?: boolean;
  /**
   * Stride's own change to the current version, which passed validation when it was written: only elements Stride
   * builds from the guide's definitions are added (a Claim's sending record and stage, written by $submit for
   * thousands of claims at once). The version is stored without being validated again; a test validates what such a
   * writer stores. Never for content that came from a client.
   */
  ownChange?: boolean;
}

/** Keys per statement of readCurrentMany: two bound values each, far below either engine's limit. */
const READ_MANY_CHUNK = 500;

export function toStored(row: ResourceRow): StoredResource {
  return {
    resourceType: row.resource_type,
    id: row.id,
    versionId: Number(row.version_id),
    lastUpdated: Number(row.last_updated),
    deleted: Number(row.deleted) === 1,
    json: row.content,
  };
}

function mapStored(row: ResourceRow | undefined): StoredResource | undefined {
  return row ? toStored(row) : undefined;
}

export class Repository {
  /** Resources written through this repository's transaction, in order (the bots' input). */
  readonly changes: StoredResource[] = [];
  /** Non-blocking findings (the bots') about resources this transaction wrote, by `Type/id`. */
  readonly findings = new Map<string, OperationOutcomeIssue[]>();
  /** The creates and updates of this transaction: the hook's findings are added to their issues. */
  private readonly results: WriteResult[] = [];
  /**
   * Index rows of this transaction's versions not yet inserted: inserted together, a few statements per table for the
   * whole transaction, before anything searches it and before it commits (flushIndex).
   */
  private readonly pendingRows = new Map<string, ResourceRows>();
  /** The index insert under way (or done): flushIndex. */
  private flushing: Promise<void> = Promise.resolve();

  constructor(
    readonly deps: RepositoryDeps,
    private readonly tx?: Queryer,
  ) {}

  /** The connection reads go to: the open transaction when there is one, else the committed-data reader. */
  get db(): Queryer {
    return this.tx ?? this.deps.store.reader;
  }

  get inTransaction(): boolean {
    return this.tx !== undefined;
  }

  /** Runs `work` in one database transaction (or the one already open): all of it commits, or none. */
  async transaction<T>(work: (repo: Repository) => Promise<T>): Promise<T> {
    if (this.tx) return work(this);
    return this.deps.store.transaction(async (tx) => {
      const repo = new Repository(this.deps, tx);
      const result = await work(repo);
      if (this.deps.hook && repo.changes.length > 0) {
        await this.deps.hook.afterWrite(repo);
        for (const r of repo.results) r.issues.push(...(repo.findings.get(`${r.stored.resourceType}/${r.stored.id}`) ?? []));
      }
      await repo.flushIndex();
      return result;
    });
  }

  async readCurrent(type: string, id: string): Promise<StoredResource | undefined> {
    // No resource has an id outside R4's pattern; a URL's `a%00b` must not reach the database (PostgreSQL refuses NUL).
    if (!isValidId(id)) return undefined;
    // AuditEvents are rows of the audit trail's table (src/auth/audit-store.ts), never resources written here.
    if (type === AUDIT_TYPE) return mapStored(await readAuditEvent(this.db, id));
    const row = await this.db.get<ResourceRow>(selectCurrent(type, id));
    return row ? toStored(row) : undefined;
  }

  /**
   * The current versions (deletions too) of several `Type/id` keys, by key; keys never written are absent. A few
   * statements for all of them (READ_MANY_CHUNK keys each) instead of one per key: a round trip each on PostgreSQL.
   */
  async readCurrentMany(keys: readonly string[]): Promise<Map<string, StoredResource>> {
    const pairs: Array<[string, string]> = [];
    const audits: string[] = [];
    for (const key of new Set(keys)) {
      const slash = key.indexOf('/');
      const id = key.slice(slash + 1);
      if (slash > 0 && isValidId(id)) (key.slice(0, slash) === AUDIT_TYPE ? audits.push(id) : pairs.push([key.slice(0, slash), id]));
    }
    const out = new Map<string, StoredResource>();
    for (const row of audits.length ? await readAuditEvents(this.db, audits) : []) out.set(`${AUDIT_TYPE}/${row.id}`, toStored(row));
    for (let i = 0; i < pairs.length; i += READ_MANY_CHUNK) {
      for (const row of await this.db.all<ResourceRow>(selectCurrentMany(pairs.slice(i, i + READ_MANY_CHUNK)))) {
        const stored = toStored(row);
        out.set(`${stored.resourceType}/${stored.id}`, stored);
      }
    }
    return out;
  }

  /** The current version; 404 when it never existed, 410 when it was deleted. */
  async read(type: string, id: string): Promise<StoredResource> {
    return requireLive(type, id, await this.readCurrent(type, id));
  }

  /**
   * read, locking the row until the transaction ends, for a read-modify-write (patch): a concurrent writer then
   * waits, instead of both deriving a version from the same one and the later failing.
   */
  async readForUpdate(type: string, id: string): Promise<StoredResource> {
    return this.transaction(async (repo) => requireLive(type, id, await repo.lockCurrent(type, id)));
  }

  async vread(type: string, id: string, versionId: number): Promise<StoredResource> {
    if (!isValidId(id)) throw new OperationOutcomeError(notFound(`${type}/${id}/_history/${versionId} not found`));
    const row = type === AUDIT_TYPE ? (versionId === 1 ? await readAuditEvent(this.db, id) : undefined) : await this.db.get<ResourceRow>(selectVersion(type, id, versionId));
    if (!row) throw new OperationOutcomeError(notFound(`${type}/${id}/_history/${versionId} not found`));
    const stored = toStored(row);
    if (stored.deleted) throw new OperationOutcomeError(gone(`${type}/${id} version ${versionId} is a deletion`));
    return stored;
  }

  async search(query: SearchQuery): Promise<SearchResult> {
    await this.flushIndex();
    return this.searchOn(this.db, query);
  }

  /** AuditEvents are searched in the audit trail's table; no other search reaches them (src/auth/audit-store.ts). */
  private searchOn(db: Queryer, query: SearchQuery): Promise<SearchResult> {
    if (query.resourceType === AUDIT_TYPE && !query.types) return searchAuditEvents(db, query);
    refuseAuditReach(query);
    return this.deps.searcher.search(db, query);
  }

  /**
   * A search of committed data only, whatever transaction is open: on the store's reader (PostgreSQL: a connection of
   * the read pool, so several run at once, beside the transaction's). It sees none of this transaction's writes.
   */
  searchCommitted(query: SearchQuery): Promise<SearchResult> {
    return this.searchOn(this.deps.store.reader, query);
  }

  /**
   * Inserts the index rows this transaction's writes are waiting for (see pendingRows). Searches run side by side (a
   * bot's Promise.all) all wait for the one insert: its statements run one after another, and a search run between
   * two of them would miss the rows of the later one.
   */
  private flushIndex(): Promise<void> {
    const indexer = this.deps.indexer;
    if (indexer && this.pendingRows.size > 0) {
      const rows = [...this.pendingRows.values()];
      this.pendingRows.clear();
      this.flushing = this.flushing.then(() => indexer.insert(this.db, rows));
    }
    return this.flushing;
  }

  /** Replaces a resource's index rows: those inserted (earlier versions) and those still waiting (this transaction's). */
  private async removeIndexRows(indexer: Indexer, type: string, id: string): Promise<void> {
    this.pendingRows.delete(`${type}/${id}`);
    // An insert under way may hold this resource's rows: they go in first, then out.
    await this.flushing;
    await indexer.remove(this.db, type, id);
  }

  /** Creates with a server id (or the id a transaction assigned to a urn:uuid entry). */
  async create(input: Resource, assignedId?: string): Promise<WriteResult> {
    assertStorableType(input.resourceType);
    const id = assignedId ?? newId();
    const time = nextTimestamp();
    const { resource, json } = stamp(input, id, 1, time);
    const issues = assertValid(this.deps.validator, resource);
    return this.transaction(async (repo) => {
      await repo.writeVersion(resource, json, undefined, time);
      return repo.track({ stored: repo.changes[repo.changes.length - 1], resource, created: true, issues });
    });
  }

  /** Update, or create with the client's id when there is none (upsert; R4 http.html#update). */
  async update(input: Resource, options: UpdateOptions = {}): Promise<WriteResult> {
    const id = input.id as string;
    assertValidId(id, input.resourceType);
    assertStorableType(input.resourceType);
    const issues = options.ownChange ? [] : assertValid(this.deps.validator, input);
    return this.transaction(async (repo) => {
      if (options.expectNew && options.ifMatch === undefined) {
        const inserted = await repo.writeNext(input, undefined, issues, true);
        if (inserted) return inserted;
      }
      const current = await repo.lockCurrent(input.resourceType, id);
      checkIfMatch(input.resourceType, id, current, options.ifMatch);
      return (await repo.writeNext(input, current, issues)) as WriteResult;
    });
  }

  /** The version after `current` (1 when none); undefined when `ifAbsent` and a current row is there after all. */
  private async writeNext(input: Resource, current: StoredResource | undefined, issues: OperationOutcomeIssue[], ifAbsent = false): Promise<WriteResult | undefined> {
    const time = nextTimestamp();
    const { resource, json } = stamp(input, input.id as string, current ? current.versionId + 1 : 1, time);
    if (!(await this.writeVersion(resource, json, current, time, ifAbsent))) return undefined;
    return this.track({ stored: this.changes[this.changes.length - 1], resource, created: !current || current.deleted, issues });
  }

  /** Deletes; returns undefined when there was nothing to delete (already deleted or never there). */
  async delete(type: string, id: string, options: UpdateOptions = {}): Promise<StoredResource | undefined> {
    return this.transaction(async (repo) => {
      const current = await repo.lockCurrent(type, id);
      checkIfMatch(type, id, current, options.ifMatch);
      if (!current || current.deleted) return undefined;
      const time = nextTimestamp();
      const version = current.versionId + 1;
      await repo.putRows(type, id, current, version, time, '');
      if (repo.deps.indexer) await repo.removeIndexRows(repo.deps.indexer, type, id);
      const stored: StoredResource = { resourceType: type, id, versionId: version, lastUpdated: time, deleted: true, json: '' };
      repo.changes.push(stored);
      return stored;
    });
  }

  private track(result: WriteResult): WriteResult {
    this.results.push(result);
    return result;
  }

  private async lockCurrent(type: string, id: string): Promise<StoredResource | undefined> {
    if (!isValidId(id)) return undefined;
    const row = await this.db.get<ResourceRow>(selectCurrent(type, id, this.deps.store.dialect));
    return row ? toStored(row) : undefined;
  }

  /** Writes a version's rows and queues its index rows; false (nothing written) when `ifAbsent` and a current row exists. */
  private async writeVersion(resource: Resource, json: string, current: StoredResource | undefined, time: number, ifAbsent = false): Promise<boolean> {
    const type = resource.resourceType;
    const id = resource.id as string;
    const version = Number(resource.meta?.versionId);
    if (!(await this.putRows(type, id, current, version, time, json, ifAbsent))) return false;
    const indexer = this.deps.indexer;
    let indexRows: IndexRows | undefined;
    if (indexer) {
      // A first version has no earlier rows to replace (a rolled-back attempt took its rows with it).
      if (version !== 1) await this.removeIndexRows(indexer, type, id);
      indexRows = indexer.extract(resource);
      this.pendingRows.set(`${type}/${id}`, { resourceType: type, id, rows: indexRows });
    }
    this.changes.push({ resourceType: type, id, versionId: version, lastUpdated: time, deleted: false, json, resource, indexRows });
    return true;
  }

  /**
   * The current row and the history row of a version. False when `ifAbsent` (inserting, no current row read) and a
   * current row is there: nothing was written.
   */
  private async putRows(type: string, id: string, current: StoredResource | undefined, version: number, time: number, json: string, ifAbsent = false): Promise<boolean> {
    const deleted = json === '' ? 1 : 0;
    // Both rows in one statement where the engine takes writes in WITH; else the current row, then its history row.
    // Either way, a current row that is no longer at `current` (moved by someone else first) changes nothing.
    let changes = 1;
    if (this.deps.store.dialect.writesInWith) {
      ({ changes } = await this.db.run(writeVersionRows(type, id, current?.versionId, version, time, deleted, json, ifAbsent)));
    } else {
      if (current) ({ changes } = await this.db.run(updateCurrent(type, id, current.versionId, version, time, deleted, json)));
      else ({ changes } = await this.db.run(insertCurrent(type, id, version, time, deleted, json, ifAbsent)));
      if (changes === 1) await this.db.run(insertHistory(type, id, version, time, deleted, json));
    }
    if (changes === 1) return true;
    if (ifAbsent && !current) return false;
    throw new OperationOutcomeError(conflict(`${type}/${id} was changed by another request; retry`));
  }
}

/** The current version, or 404 when it never existed, 410 when it was deleted. */
function requireLive(type: string, id: string, current: StoredResource | undefined): StoredResource {
  if (!current) throw new OperationOutcomeError(notFound(`${type}/${id} not found`));
  if (current.deleted) throw new OperationOutcomeError(gone(`${type}/${id} was deleted (version ${current.versionId})`));
  return current;
}

/** `If-Match: *` asks only that a current version exist (RFC 9110 §13.1.1); a number, that it be that version. */
function checkIfMatch(type: string, id: string, current: StoredResource | undefined, ifMatch: number | '*' | undefined): void {
  if (ifMatch === undefined) return;
  if (!current || current.deleted) {
    const wanted = ifMatch === '*' ? '*' : `W/"${ifMatch}"`;
    throw new OperationOutcomeError(preconditionFailed(`If-Match ${wanted}: ${type}/${id} has no current version to match`));
  }
  if (ifMatch !== '*' && current.versionId !== ifMatch) {
    throw new OperationOutcomeError(preconditionFailed(`If-Match W/"${ifMatch}" does not match the current version W/"${current.versionId}" of ${type}/${id}`));
  }
}
