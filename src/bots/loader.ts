/**
 * Loads the bots at start-up (DESIGN §6): every folder of a bots directory whose index default-exports
 * `defineBot({...})`. Anything wrong (an import that throws, a trigger that does not compile, no bot exported, an id
 * used twice) stops start-up with an error naming the file.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import type { Bot } from './types.js';
import { isBot } from './define-bot.js';

/** Folders of a bots directory that hold data, not a bot. */
const NOT_BOTS = new Set(['policies', 'node_modules']);

const HERE = fileURLToPath(import.meta.url);
/** Compiled (dist/src/bots/loader.js) or run from source by tsx/vitest (src/bots/loader.ts). */
const COMPILED = HERE.endsWith('.js');

/** The repository root: the first folder above this file with a package.json. */
export function projectRoot(): string {
  let dir = path.dirname(HERE);
  while (!fs.existsSync(path.join(dir, 'package.json'))) {
    const parent = path.dirname(dir);
    if (parent === dir) throw new Error(`No package.json above ${HERE}`);
    dir = parent;
  }
  return dir;
}

/** The bots shipped with Stride: bots/ from source, or dist/bots/ when compiled (`npm start`). */
export function defaultBotsDir(): string {
  return path.resolve(path.dirname(HERE), '../../bots');
}

/** The payer policies shipped with Stride: JSON data, read from the repository's bots/policies/ in either mode. */
export function defaultPoliciesDir(): string {
  return path.join(projectRoot(), 'bots', 'policies');
}

export async function loadBots(dirs: readonly string[]): Promise<Bot[]> {
  const bots: Bot[] = [];
  const files = new Map<string, string>();
  for (const dir of dirs) {
    if (!fs.existsSync(dir)) throw new Error(`Bots directory ${dir} does not exist`);
    // A folder, or a link to one (a deployment may link the bots it wants into its own bots folder).
    const isFolder = (d: fs.Dirent) => d.isDirectory() || (d.isSymbolicLink() && fs.statSync(path.join(dir, d.name), { throwIfNoEntry: false })?.isDirectory() === true);
    const folders = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => isFolder(d) && !NOT_BOTS.has(d.name) && !/^[._]/.test(d.name));
    for (const folder of folders.map((d) => d.name).sort()) {
      const file = indexFile(fs.realpathSync(path.join(dir, folder)));
      if (!file) throw new Error(`Bot folder ${path.join(dir, folder)} has no index.ts or index.js`);
      const bot = await importBot(file);
      if (bot.id !== folder) throw new Error(`Bot ${file}: its id "${bot.id}" must be its folder's name "${folder}"`);
      const other = files.get(bot.id);
      if (other) throw new Error(`Bot ${file}: the id "${bot.id}" is already used by ${other}`);
      files.set(bot.id, file);
      bots.push(bot);
    }
  }
  return inRunOrder(bots);
}

/**
 * Folder order, except that a bot runs after the bots its `after` names (a stable topological order). A cycle stops
 * start-up naming the bots in it.
 */
export function inRunOrder(bots: readonly Bot[]): Bot[] {
  const byId = new Map(bots.map((b) => [b.id, b]));
  const ordered: Bot[] = [];
  const state = new Map<string, 'visiting' | 'done'>();
  const visit = (bot: Bot, path: string[]): void => {
    if (state.get(bot.id) === 'done') return;
    if (state.get(bot.id) === 'visiting') throw new Error(`Bots ${[...path, bot.id].join(' -> ')}: their "after" lists form a cycle`);
    state.set(bot.id, 'visiting');
    for (const id of bot.after ?? []) {
      const before = byId.get(id);
      if (before) visit(before, [...path, bot.id]);
    }
    state.set(bot.id, 'done');
    ordered.push(bot);
  };
  for (const bot of bots) visit(bot, []);
  return ordered;
}

function indexFile(folder: string): string | undefined {
  const order = COMPILED ? ['index.js', 'index.ts'] : ['index.ts', 'index.js'];
  return order.map((name) => path.join(folder, name)).find((f) => fs.existsSync(f));
}

async function importBot(file: string): Promise<Bot> {
  let module: { default?: unknown };
  try {
    module = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new Error(`Bot ${file} failed to load: ${(err as Error).message}`);
  }
  if (!isBot(module.default)) throw new Error(`Bot ${file} does not default-export defineBot({...})`);
  return module.default;
}
