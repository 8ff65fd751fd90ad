/**
 * What a bot is and what it may do (DESIGN §6). A bot reads the resources a write changed and returns actions; it never
 * writes itself: the runner applies its actions through the repository, inside the write's transaction.
 */
import type { OperationOutcomeIssue, Reference, Resource } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { PolicySet } from './policies.js';

/** error = blocks billing; warning = informs (DOMAIN-97116 §C). */
export type RuleSeverity = 'error' | 'warning';

/** A rule a bot checks, as the `$bots` listing shows it to integrators. */
export interface BotRule {
  /** Unique within the bot; the DetectedIssue code and part of its identity. */
  id: string;
  severity: RuleSeverity;
  /** The resource type a finding of this rule is about (its DetectedIssue subject). */
  subject: string;
  /** What the rule checks, one line. */
  title: string;
  /** The element(s) checked, as FHIRPath locations (`Procedure.note`). */
  element: string;
  /** Where the rule comes from: manual section, coverage determination, seed sentence. */
  source: string;
  /** A URL for the source: the DetectedIssue's `reference` (R4 detectedissue.html). */
  reference: string;
  /** The FHIRPath condition when the rule is one (true = documented); absent for computed rules. */
  expression?: string;
  /** What a therapist does to resolve it. */
  fix: string;
}

/** A resource the write changed, as a bot receives it. */
export interface ChangedResource {
  /** `Type/id` */
  key: string;
  resourceType: string;
  id: string;
  versionId: number;
  /** The resource as stored; undefined for a deletion. */
  resource?: Resource;
}

export interface BotInput {
  /** The current versions that matched the bot's resource types and trigger. */
  resources: Resource[];
  /** Deletions of the bot's resource types, with the last version before the deletion when there was one. */
  deleted: Array<{ key: string; previous?: Resource }>;
}

/** One open finding: rule `rule` is not met by `subject`. Severity, source and citation come from the rule. */
export interface Finding {
  rule: string;
  /** `Type/id` of the resource the finding is about. */
  subject: string;
  /** The specific problem and what to do, for the therapist. */
  detail: string;
  /** `Type/id` of every resource involved (the subject first). */
  implicated: string[];
  /** `Patient/id`, when known. */
  patient?: string;
  /** FHIRPath locations of the missing or wrong elements. */
  expression?: string[];
}

/** A resource the bot wants created (no id) or created/updated (with an id), and what it was derived from. */
export interface Upsert {
  resource: Resource;
  /** `Type/id` (or resources) it was computed from: their versions go into the Provenance. */
  sources: Array<string | Resource>;
  /** Why the bot wrote this version, for a person reading its history (the Provenance's `reason` text). */
  reason?: string;
}

export interface BotActions {
  /**
   * Findings, reconciled by the runner into DetectedIssues: for every subject in `subjects`, each rule's finding is
   * created, updated or closed so that exactly `items` stay open.
   */
  findings?: { subjects: string[]; items: Finding[] };
  /** Resources to create or update (validated, indexed, versioned, each with a Provenance). */
  upserts?: Upsert[];
  /** Plain OperationOutcome issues for the write's response, by `Type/id` of the resource they concern. */
  issues?: Array<{ about: string; issue: OperationOutcomeIssue }>;
}

/**
 * Read-only access to the database for a bot's rules: it sees the write's own, uncommitted changes. Resources read
 * from stored versions are shared between writes and frozen: a bot copies what it wants to change (changing one
 * throws a TypeError, recorded as the bot's failure).
 */
export interface BotContext {
  readonly now: Date;
  readonly policies: PolicySet;
  readonly logger: Logger;
  /** The current version of `Type/id` (or a Reference to it); undefined when absent, deleted or not local. */
  read<T extends Resource = Resource>(reference: string | Reference | undefined): Promise<T | undefined>;
  /** A FHIR search, e.g. `search('Procedure', { encounter: 'Encounter/1' })`; at most 1,000 matches. */
  search<T extends Resource = Resource>(type: string, params: Record<string, string | string[]>): Promise<T[]>;
  /**
   * A hint: reads ahead what `resources` reference, and what those reference, `depth` levels deep (default 2), a
   * statement per level, so that the reads that follow need no round trip of their own (PostgreSQL). Reads answer
   * the same with or without it; it hands nothing out (Provenance sources are what was read).
   */
  prefetch(resources: readonly Resource[], depth?: number): Promise<void>;
  /**
   * Holds a lock named `name` until the write commits, so that another write taking the same lock (in another Stride
   * process on PostgreSQL) waits until this one has committed, and then reads what it wrote. A bot takes it before it
   * reads what two writes could change at once (billing: the sessions of one date of service). Where writes are
   * serialised (SQLite) it does nothing. Reads after it see what was committed meanwhile.
   */
  lock(name: string): Promise<void>;
  /**
   * Locks the current rows of `Type/id` resources until the write commits (in one global order), so that another
   * process's write of them waits, and the reads of them that follow see what was committed meanwhile. A bot takes it
   * before it rewrites a resource from what it reads of it (a Claim whose sendings $submit records). Nothing on SQLite.
   */
  lockResources(keys: readonly string[]): Promise<void>;
  /** The current versions of the resources of `type` this write changed (deletions excepted). */
  changed<T extends Resource = Resource>(type: string): T[];
  /**
   * Whether this write created `Type/id` (version 1): then only resources written with it can reference it, so a
   * bot may look in `changed()` instead of searching (a client could have written a dangling reference to an id it
   * creates later; a bot that relies on this says so).
   */
  isNew(key: string): boolean;
}

export interface BotDefinition {
  /** Folder name under bots/, lower-case kebab. */
  id: string;
  description: string;
  /** Resource types whose writes may trigger the bot. */
  resourceTypes: readonly string[];
  /**
   * FHIRPath on a changed resource of those types: the bot runs when it is true. One expression for every type, or
   * one per type (a type without one never triggers): each resource then pays only for its own type's condition.
   */
  when: string | Readonly<Record<string, string>>;
  /** The rules it checks (listed by `$bots`; findings must name one of them). */
  rules?: readonly BotRule[];
  /**
   * Bots that must run before this one in each round, so that this one reads what they wrote in the same write
   * (billing reads the documentation bot's findings). A bot named here that is not loaded is ignored.
   */
  after?: readonly string[];
  /**
   * Called once at start-up with the payer policies the server loaded (STRIDE_POLICIES_DIR), before any write: a bot
   * reads or checks its own data against them here. Throwing stops start-up, naming the bot, as a broken bot does.
   */
  start?(policies: PolicySet): void;
  run(input: BotInput, ctx: BotContext): Promise<BotActions>;
}

/** A definition whose trigger is compiled: what `defineBot` returns and the loader accepts. */
export interface Bot extends BotDefinition {
  readonly rules: readonly BotRule[];
  /** The compiled trigger. */
  triggers(resource: Resource): boolean;
}
