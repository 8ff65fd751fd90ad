/**
 * The read-only context a bot's rules get (DESIGN §6): reads and searches on the write's own transaction, so they see
 * what the write changed, and nothing that writes. It remembers the version of every resource it handed out: those
 * are the versions a generated resource's Provenance names.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Reference, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Repository, StoredResource } from '../repo/repository.js';
import type { BotContext } from './types.js';
import type { PolicySet } from './policies.js';

/** Most matches a bot search returns: bots ask narrow questions (one session, one episode). */
export const BOT_SEARCH_LIMIT = 1000;

/**
 * Parses stored JSON once per write, whoever asks first (the trigger, a rule, the runner); what the write itself
 * wrote is already an object.
 */
export class ParsedResources {
  private readonly parsed = new WeakMap<StoredResource, Resource>();
  parse(stored: StoredResource): Resource {
    let resource = this.parsed.get(stored);
    if (!resource) {
      resource = stored.resource ?? (JSON.parse(stored.json) as Resource);
      this.parsed.set(stored, resource);
    }
    return resource;
  }
}

/** `Type/id` of a local reference (`Type/id` or `Type/id/_history/n`); undefined for anything else. */
export function referenceKey(reference: string | Reference | undefined): string | undefined {
  const text = typeof reference === 'string' ? reference : reference?.reference;
  const match = text ? /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(\/_history\/[^/]+)?$/.exec(text) : null;
  return match ? `${match[1]}/${match[2]}` : undefined;
}

export interface ContextOptions {
  tx: Repository;
  policies: PolicySet;
  logger: Logger;
  now: Date;
  parsed: ParsedResources;
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
    const [type, id] = key.split('/');
    const stored = this.written.get(key) ?? (await this.guard(() => this.options.tx.readCurrent(type, id)));
    const resource = stored && !stored.deleted ? this.remember(stored) : undefined;
    if (!resource) this.cache.set(key, null);
    return resource as T | undefined;
  }

  async search<T extends Resource = Resource>(type: string, params: Record<string, string | string[]>): Promise<T[]> {
    const query = Object.fromEntries(Object.entries(params).map(([name, value]) => [name, Array.isArray(value) ? value : [value]]));
    const result = await this.guard(() => this.options.tx.search({ resourceType: type, params: query, count: BOT_SEARCH_LIMIT, offset: 0, total: 'none' }));
    return result.rows.map((row) => {
      const key = `${row.resource_type}/${row.id}`;
      const written = this.written.get(key);
      const cached = this.cache.get(key);
      if (cached && this.versions.get(key) === Number(row.version_id)) return cached as T;
      if (written && written.versionId === Number(row.version_id)) return this.remember(written) as T;
      this.versions.set(key, Number(row.version_id));
      const resource = JSON.parse(row.content) as Resource;
      this.cache.set(key, resource);
      return resource as T;
    });
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
    const resource = this.options.parsed.parse(stored);
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
