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
    const folders = fs.readdirSync(dir, { withFileTypes: true }).filter((d) => d.isDirectory() && !NOT_BOTS.has(d.name) && !/^[._]/.test(d.name));
    for (const folder of folders.map((d) => d.name).sort()) {
      const file = indexFile(path.join(dir, folder));
      if (!file) throw new Error(`Bot folder ${path.join(dir, folder)} has no index.ts or index.js`);
      const bot = await importBot(file);
      if (bot.id !== folder) throw new Error(`Bot ${file}: its id "${bot.id}" must be its folder's name "${folder}"`);
      const other = files.get(bot.id);
      if (other) throw new Error(`Bot ${file}: the id "${bot.id}" is already used by ${other}`);
      files.set(bot.id, file);
      bots.push(bot);
    }
  }
  return bots;
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
