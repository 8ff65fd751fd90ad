/** Several WriteHooks run one after another at the end of a write transaction (the bots, then the view tables). */
import type { Repository, WriteHook } from './repository.js';

export class WriteHooks implements WriteHook {
  constructor(readonly hooks: readonly WriteHook[]) {}

  async afterWrite(tx: Repository): Promise<void> {
    for (const hook of this.hooks) await hook.afterWrite(tx);
  }
}

/** The hook of a class among a repository's hooks (one hook, or a WriteHooks of several). */
export function hookOf<T extends WriteHook>(repo: Repository, type: abstract new (...args: never[]) => T): T | undefined {
  const hook = repo.deps.hook;
  if (hook instanceof type) return hook;
  if (hook instanceof WriteHooks) return hook.hooks.find((h): h is T => h instanceof type);
  return undefined;
}
