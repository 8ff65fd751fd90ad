/** Start-up: reads the payer policies and the bots, and returns the runner the repository calls on every write. */
import type { Logger } from 'pino';
import type { Repository } from '../repo/repository.js';
import { defaultBotsDir, defaultPoliciesDir, loadBots } from './loader.js';
import { loadPolicies } from './policies.js';
import { BotRunner } from './runner.js';
import { hookOf } from '../repo/hooks.js';

export interface OpenBotsOptions {
  /** Bot directories (STRIDE_BOTS_DIR); default the bots shipped with Stride. */
  dirs?: readonly string[];
  /** Payer policies (STRIDE_POLICIES_DIR); default bots/policies/. */
  policiesDir?: string;
  logger: Logger;
}

export async function openBots(options: OpenBotsOptions): Promise<BotRunner> {
  const policies = loadPolicies(options.policiesDir ?? defaultPoliciesDir());
  const bots = await loadBots(options.dirs ?? [defaultBotsDir()]);
  for (const bot of bots) {
    try {
      bot.start?.(policies);
    } catch (err) {
      throw new Error(`Bot ${bot.id} cannot start with the payer policies of ${policies.dir}: ${(err as Error).message}`);
    }
  }
  options.logger.info({ bots: bots.map((b) => b.id), policies: policies.all.map((p) => p.id) }, `bots loaded: ${bots.map((b) => b.id).join(', ') || 'none'}`);
  return new BotRunner({ bots, policies, logger: options.logger });
}

/** The bots running on this repository's writes, if any. */
export function botRunnerOf(repo: Repository): BotRunner | undefined {
  return hookOf(repo, BotRunner);
}
