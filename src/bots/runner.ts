/**
 * The bot runner (DESIGN §6): at the end of each outermost write transaction, after every entry was applied and
 * before commit, it runs the bots on what the write changed. Bots' own writes are changes too and may trigger bots,
 * round after round, up to MAX_DEPTH rounds. A bot that throws (or breaks its contract, or generates an invalid
 * resource) loses only its own actions, never the client's write; a database failure fails the write as any
 * database failure does (the store retries what it can).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Logger } from 'pino';
import type { Repository, StoredResource, WriteHook } from '../repo/repository.js';
import type { Bot, BotInput, BotRule } from './types.js';
import type { PolicySet } from './policies.js';
import { ReadOnlyContext, resourceOf } from './context.js';
import { CommittedCache, type TransactionView } from './committed.js';
import { addIssue, applyActions, BotContractError } from './actions.js';
import { recordFailure } from './failures.js';

/** Rounds of bots triggering bots; the chain stops there with a warning. */
export const MAX_DEPTH = 3;

export interface BotRunnerOptions {
  bots: readonly Bot[];
  policies: PolicySet;
  logger: Logger;
  maxDepth?: number;
}

export interface BotSummary {
  id: string;
  description: string;
  resourceTypes: readonly string[];
  /** Resource type ('*' for all) -> its FHIRPath trigger. */
  triggers: Record<string, string>;
  rules: readonly BotRule[];
}

export class BotRunner implements WriteHook {
  readonly bots: readonly Bot[];
  readonly policies: PolicySet;
  private readonly logger: Logger;
  /** Each bot's logger (made once: a pino child per write was a measurable part of the hook). */
  private readonly loggers: ReadonlyMap<string, Logger>;
  private readonly maxDepth: number;
  /** How many of a transaction's changes the bots have already seen ($run-bots runs them before the hook). */
  private readonly processed = new WeakMap<Repository, number>();
  /** Committed answers to the bots' reads and searches, kept between writes (committed.ts). */
  readonly committed = new CommittedCache();
  private readonly views = new WeakMap<Repository, TransactionView | undefined>();

  constructor(options: BotRunnerOptions) {
    this.bots = options.bots;
    this.policies = options.policies;
    this.logger = options.logger;
    this.loggers = new Map(options.bots.map((b) => [b.id, options.logger.child({ bot: b.id })]));
    this.maxDepth = options.maxDepth ?? MAX_DEPTH;
  }

  async afterWrite(tx: Repository): Promise<void> {
    if (this.bots.length === 0) return;
    const seen = this.processed.get(tx) ?? 0;
    if (tx.changes.length > seen) await this.process(tx, tx.changes.slice(seen));
  }

  /**
   * Runs the bots for `resources` as if they had just been written ($run-bots), in the open transaction `tx`.
   * Returns the ids of the bots that ran in the first round (those whose trigger matched).
   */
  async rerun(tx: Repository, resources: StoredResource[]): Promise<string[]> {
    return this.process(tx, resources);
  }

  list(): BotSummary[] {
    return this.bots.map((b) => ({
      id: b.id,
      description: b.description,
      resourceTypes: b.resourceTypes,
      triggers: typeof b.when === 'string' ? { '*': b.when } : { ...b.when },
      rules: b.rules,
    }));
  }

  private async process(tx: Repository, first: StoredResource[]): Promise<string[]> {
    const ran: string[] = [];
    if (!this.views.has(tx)) this.views.set(tx, this.committed.open(tx));
    const view = this.views.get(tx);
    const now = new Date();
    const roots = first.map(keyOf);
    let batch = first;
    for (let depth = 1; batch.length > 0; depth++) {
      if (depth > this.maxDepth) {
        this.stopChain(tx, batch, roots);
        break;
      }
      const start = tx.changes.length;
      const changed = new Set(tx.changes.slice(0, start).map(keyOf).concat(batch.map(keyOf)));
      const round = { now, changed, roots: depth > 1 ? roots : [], view };
      for (const bot of this.bots) if ((await this.runBot(bot, tx, batch, round)) && depth === 1) ran.push(bot.id);
      batch = tx.changes.slice(start);
    }
    this.processed.set(tx, tx.changes.length);
    return ran;
  }

  /** Runs one bot on a batch; false when nothing in the batch triggered it. */
  private async runBot(bot: Bot, tx: Repository, batch: StoredResource[], round: Round): Promise<boolean> {
    const { now, changed, roots, view } = round;
    const triggered = new Map<string, StoredResource>();
    const deletions: StoredResource[] = [];
    const logger = this.loggers.get(bot.id) as Logger;
    try {
      for (const stored of batch) {
        if (!bot.resourceTypes.includes(stored.resourceType)) continue;
        if (stored.deleted) deletions.push(stored);
        else if (bot.triggers(resourceOf(stored))) triggered.set(keyOf(stored), stored);
      }
    } catch (error) {
      // A trigger that throws on some input is the bot's bug: it runs for nothing in this write.
      await recordFailure({ tx, botId: bot.id, triggered: versions(batch), also: roots, error, logger, now });
      return true;
    }
    if (triggered.size === 0 && deletions.length === 0) return false;
    const ctx = new ReadOnlyContext({ tx, policies: this.policies, logger, now, view });
    const input: BotInput = {
      resources: [...triggered.values()].map((s) => ctx.remember(s)),
      deleted: await Promise.all(deletions.map(async (d) => ({ key: keyOf(d), previous: await previousVersion(tx, d) }))),
    };
    const keys = [...triggered.keys(), ...deletions.map(keyOf)];
    const failed = (error: unknown) => recordFailure({ tx, botId: bot.id, triggered: versions([...triggered.values(), ...deletions]), also: roots, error, logger, now });
    let actions;
    try {
      actions = await bot.run(input, ctx);
    } catch (error) {
      if (ctx.databaseError) throw ctx.databaseError;
      await failed(error);
      return true;
    }
    try {
      await applyActions(actions, { tx, bot, ctx, triggered: keys, changed, now });
    } catch (error) {
      if (!(error instanceof OperationOutcomeError || error instanceof BotContractError)) throw error;
      await failed(error);
    }
    return true;
  }

  /** Bots kept triggering bots: the write commits with what was done, and says where the chain stopped. */
  private stopChain(tx: Repository, batch: StoredResource[], roots: string[]): void {
    const keys = batch.map(keyOf);
    this.logger.warn({ resources: keys, depth: this.maxDepth }, 'bot chain stopped at the depth limit');
    const issue = {
      severity: 'warning' as const,
      code: 'too-costly' as const,
      details: { text: `Bots stopped after ${this.maxDepth} rounds of bots triggering bots; ${keys.length} resource(s) they wrote were not checked by bots: ${keys.slice(0, 5).join(', ')}` },
    };
    for (const key of [...roots, ...keys]) addIssue(tx, key, issue);
  }
}

interface Round {
  now: Date;
  /** `Type/id` of everything the write changed before this round's bots ran. */
  changed: Set<string>;
  /** From the second round on, the write's own resources: failures are reported on them too. */
  roots: string[];
  view?: TransactionView;
}

function keyOf(s: StoredResource): string {
  return `${s.resourceType}/${s.id}`;
}

function versions(list: StoredResource[]): Map<string, number> {
  return new Map(list.map((s) => [keyOf(s), s.versionId]));
}

async function previousVersion(tx: Repository, deletion: StoredResource): Promise<BotInput['deleted'][number]['previous']> {
  if (deletion.versionId <= 1) return undefined;
  try {
    return resourceOf(await tx.vread(deletion.resourceType, deletion.id, deletion.versionId - 1));
  } catch (err) {
    if (err instanceof OperationOutcomeError) return undefined;
    throw err;
  }
}
