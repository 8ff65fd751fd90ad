/**
 * The read-only context a bot's rules get (DESIGN §6): reads and searches on the write's own transaction, so they see
 * what the write changed, and nothing that writes. It remembers the version of every resource it handed out: those
 * are the versions a generated resource's Provenance names.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import { toStored, type Repository, type StoredResource } from '../repo/repository.js';
import { searchBeside, type TransactionView } from './committed.js';
import { forEachReference } from '../fhir/references.js';
import { lockInOrder, lockKey, lockUntilCommit } from '../repo/locks.js';
import type { BotContext } from './types.js';
import type { PolicySet } from './policies.js';
import type { SearchQuery } from '../search/types.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

/** Most matches a bot search returns: bots ask narrow questions (one session, one episode). */
export const BOT_SEARCH_LIMIT = 1000;

/** Stored versions whose parse is kept between writes. */
const SHARED_PARSES = 2000;

/**
 * Parses of stored versions shared between writes: every session write reads the same patient, practitioners, plan
 * and goals, and a stored version's text does not change, so its parse is reused, for as long as the text read is the
 * very text parsed (a version rolled back and written again with other content is parsed anew). Shared objects are
 * frozen, deeply: a bot's context is read-only, and a bot that changed one would change what every later write reads
 * (it gets a TypeError instead, recorded as its failure).
 */
class SharedParses {
  private readonly entries = new Map<string, { json: string; resource: Resource }>();

  parse(type: string, id: string, version: number, json: string): Resource {
    const key = `${type}/${id}/${version}`;
    const hit = this.entries.get(key);
    if (hit && hit.json === json) return hit.resource;
    const resource = deepFreeze(parseJsonKeepingDecimals(json) as Resource);
    if (hit) this.entries.delete(key);
    else if (this.entries.size >= SHARED_PARSES) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { json, resource });
    return resource;
  }
}

/** Freezes a JSON value and everything in it (indexed and keyed loops: Object.values' arrays made it 3-5x slower). */
function deepFreeze<T>(value: T): T {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return value;
  Object.freeze(value);
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) deepFreeze(value[i]);
  } else {
    const record = value as Record<string, unknown>;
    for (const key in record) deepFreeze(record[key]);
  }
  return value;
}

const shared = new SharedParses();

/** A stored version's resource, from the parses shared between writes. */
export function parseStored(type: string, id: string, version: number, json: string): Resource {
  return shared.parse(type, id, version, json);
}

/**
 * The parse of each stored version object, kept as long as the object lives: the versions the committed cache holds
 * (committed.ts) are parsed once, however many writes read them (an episode's earlier sessions, read at each new
 * session of the episode, would otherwise drop out of the shared parses between two visits).
 */
const parsedVersions = new WeakMap<StoredResource, Resource>();

/**
 * Committed versions (the committed cache's objects) that this process wrote, with the object the write stored: the
 * first later write that reads one freezes that object and uses it, instead of parsing the text into another (an
 * episode's previous session, read at its next one).
 */
const writtenObjects = new WeakMap<StoredResource, Resource>();

/** `version` is a committed copy of a version this process wrote as `resource` (committed.ts). */
export function keepWrittenObject(version: StoredResource, resource: Resource): void {
  writtenObjects.set(version, resource);
}

/**
 * A stored version as a resource, whoever asks (the trigger, a rule, the runner): what the write itself wrote is
 * already an object; a committed version is the object its write stored, frozen, or else parsed once per object,
 * from the shared parses.
 */
export function resourceOf(stored: StoredResource): Resource {
  if (stored.resource) return stored.resource;
  let resource = parsedVersions.get(stored);
  if (!resource) {
    const written = writtenObjects.get(stored);
    resource = written ? deepFreeze(written) : parseStored(stored.resourceType, stored.id, stored.versionId, stored.json);
    parsedVersions.set(stored, resource);
  }
  return resource;
}

const LOCAL_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/;
/** Reference texts already read, and their keys (null: not a local reference); emptied when it reaches KEYS_KEPT. */
const keys = new Map<string, string | null>();
const KEYS_KEPT = 20_000;

/**
 * `Type/id` of a local reference (`Type/id` or `Type/id/_history/n`); undefined for anything else. A session's rules
 * ask this of the same few references a hundred times: each text is matched once.
 */
export function referenceKey(reference: string | Reference | undefined): string | undefined {
  const text = typeof reference === 'string' ? reference : reference?.reference;
  if (!text) return undefined;
  let key = keys.get(text);
  if (key === undefined) {
    const match = LOCAL_REFERENCE.exec(text);
    key = match ? (match[3] ? `${match[1]}/${match[2]}` : text) : null;
    if (keys.size >= KEYS_KEPT) keys.clear();
    keys.set(text, key);
  }
  return key ?? undefined;
}

export interface ContextOptions {
  tx: Repository;
  policies: PolicySet;
  logger: Logger;
  now: Date;
  /** Committed answers kept between writes (committed.ts); none on engines that cannot keep them. */
  view?: TransactionView;
}

export class ReadOnlyContext implements BotContext {
  readonly now: Date;
  readonly policies: PolicySet;
  readonly logger: Logger;
  /** `Type/id` -> version of every resource this context returned. */
  readonly versions = new Map<string, number>();
  /**
   * A database error met by a read or search. A bot may catch it, but the transaction may be unusable after it
   * (PostgreSQL aborts it): the runner fails the write with it rather than commit as if the bot had run.
   */
  databaseError?: unknown;
  private readonly cache = new Map<string, Resource | null>();
  private readonly written = new Map<string, StoredResource>();
  /** Committed versions read ahead by prefetch, by key (null: none there); handed out only when read. */
  private readonly ahead = new Map<string, StoredResource | null>();

  constructor(private readonly options: ContextOptions) {
    this.now = options.now;
    this.policies = options.policies;
    this.logger = options.logger;
    // The write's own changes are read from memory: the latest version of each wins.
    for (const change of options.tx.changes) this.written.set(`${change.resourceType}/${change.id}`, change);
  }

  async read<T extends Resource = Resource>(reference: string | Reference | undefined): Promise<T | undefined> {
    const key = referenceKey(reference);
    if (!key) return undefined;
    const cached = this.cache.get(key);
    if (cached !== undefined) return (cached ?? undefined) as T | undefined;
    const stored = this.written.get(key) ?? (await this.readCommitted(key));
    const resource = stored && !stored.deleted ? this.remember(stored) : undefined;
    if (!resource) this.cache.set(key, null);
    return resource as T | undefined;
  }

  async search<T extends Resource = Resource>(type: string, params: Record<string, string | string[]>): Promise<T[]> {
    const query = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
    const view = this.options.view;
    const asked: SearchQuery = { resourceType: type, params: query, count: BOT_SEARCH_LIMIT, offset: 0, total: 'none' };
    let rows = view ? view.search(type, query) : await this.searchBeside(asked);
    if (!rows || rows.length >= BOT_SEARCH_LIMIT) {
      const result = await this.guard(() => this.options.tx.search(asked));
      rows = result.rows.map(toStored);
      view?.fillSearch(type, query, rows, BOT_SEARCH_LIMIT);
    }
    return rows.map((row) => {
      const key = `${row.resourceType}/${row.id}`;
      const written = this.written.get(key);
      const cached = this.cache.get(key);
      if (cached && this.versions.get(key) === row.versionId) return cached as T;
      if (written && written.versionId === row.versionId) return this.remember(written) as T;
      this.versions.set(key, row.versionId);
      const resource = resourceOf(row);
      this.cache.set(key, resource);
      return resource as T;
    });
  }

  /**
   * Without the committed view (PostgreSQL), a search the index rows decide alone runs on committed data beside the
   * transaction, and this write's changes are replayed over its answer (committed.ts): the bot's searches asked side
   * by side (a bot's Promise.all) then run at once, each on a connection of the read pool, where in the transaction
   * they waited for each other, a round trip or two each. The answer is the one the transaction would give: its
   * statements see what others committed before they start (READ COMMITTED), as the read pool's do.
   */
  private searchBeside(asked: SearchQuery): Promise<StoredResource[] | undefined> {
    const tx = this.options.tx;
    const committed = async () => (await this.guard(() => tx.searchCommitted(asked))).rows.map(toStored);
    return searchBeside(asked.resourceType, asked.params, BOT_SEARCH_LIMIT, committed, tx.changes);
  }

  /**
   * Reads the resources `resources` reference, and what those reference, `depth` levels deep, one statement per level
   * (PostgreSQL: a bot's reads were a round trip each, ten per session write). Nothing is handed out or recorded as
   * read until a read asks for it. With the committed view (SQLite) it does nothing: reads are answered from memory
   * there, and walking the references would only cost.
   */
  async prefetch(resources: readonly Resource[], depth = 2): Promise<void> {
    if (this.options.view) return;
    let level: readonly Resource[] = resources;
    for (let d = 0; d < depth && level.length > 0; d++) {
      const wanted = new Set<string>();
      for (const resource of level) {
        forEachReference(resource, (reference) => {
          const key = referenceKey(reference);
          if (key && !this.cache.has(key) && !this.written.has(key) && !this.ahead.has(key)) wanted.add(key);
        });
      }
      if (wanted.size === 0) return;
      const found = await this.guard(() => this.options.tx.readCurrentMany([...wanted]));
      const next: Resource[] = [];
      for (const key of wanted) {
        const stored = found.get(key) ?? null;
        this.ahead.set(key, stored);
        if (stored && !stored.deleted) next.push(resourceOf(stored));
      }
      level = next;
    }
  }

  /** The committed version of `Type/id` (this write's own are in `written`). */
  private async readCommitted(key: string): Promise<StoredResource | undefined> {
    const ahead = this.ahead.get(key);
    if (ahead !== undefined) return ahead ?? undefined;
    const view = this.options.view;
    const kept = view?.read(key);
    if (kept !== undefined) return kept ?? undefined;
    const [type, id] = key.split('/');
    const stored = await this.guard(() => this.options.tx.readCurrent(type, id));
    view?.fillRead(key, stored);
    return stored;
  }

  async lock(name: string): Promise<void> {
    const locked = await this.guard(() => lockUntilCommit(this.options.tx, lockKey(`bot:${name}`)));
    // What was read before the lock may be older than what the write waited for: read it again.
    if (locked) {
      this.cache.clear();
      this.ahead.clear();
    }
  }

  async lockResources(keys: readonly string[]): Promise<void> {
    const refs = keys.map((k) => k.split('/')).filter((p) => p.length === 2).map(([type, id]) => ({ type: type!, id: id! }));
    if (refs.length === 0 || !this.options.tx.deps.store.dialect.lockRows) return;
    await this.guard(() => lockInOrder(this.options.tx, refs));
    for (const key of keys) {
      this.cache.delete(key);
      this.ahead.delete(key);
    }
  }

  changed<T extends Resource = Resource>(type: string): T[] {
    return [...this.written.values()].filter((s) => s.resourceType === type && !s.deleted).map((s) => this.remember(s) as T);
  }

  isNew(key: string): boolean {
    return this.written.get(key)?.versionId === 1;
  }

  /** Makes a stored version the one this context hands out (also used for resources a trigger matched). */
  remember(stored: StoredResource): Resource {
    const key = `${stored.resourceType}/${stored.id}`;
    const resource = resourceOf(stored);
    this.cache.set(key, resource);
    this.versions.set(key, stored.versionId);
    return resource;
  }

  private async guard<T>(query: () => Promise<T>): Promise<T> {
    try {
      return await query();
    } catch (err) {
      // An OperationOutcomeError is a refused request (a bad search parameter), raised before any SQL ran.
      if (!(err instanceof OperationOutcomeError)) this.databaseError ??= err;
      throw err;
    }
  }

  /** The version this context saw of `Type/id`, if any. */
  versionOf(key: string): number | undefined {
    return this.versions.get(key) ?? this.written.get(key)?.versionId;
  }
}
