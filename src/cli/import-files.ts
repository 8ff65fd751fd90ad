/** Finding the files to import and reading NDJSON in chunks. */
import fs from 'node:fs';
import path from 'node:path';
import readline from 'node:readline';

export const IMPORTABLE = /\.(json|ndjson)$/i;

/** Files given, and the .json/.ndjson files under the directories given, in a stable order. */
export function collectFiles(paths: string[]): string[] {
  const out: string[] = [];
  for (const p of paths) {
    const stat = fs.statSync(p, { throwIfNoEntry: false });
    if (!stat) throw new Error(`${p}: no such file or directory`);
    if (stat.isDirectory()) {
      const children = fs.readdirSync(p).sort().map((name) => path.join(p, name));
      out.push(...collectFiles(children.filter((c) => fs.statSync(c).isDirectory() || IMPORTABLE.test(c))));
    } else {
      out.push(p);
    }
  }
  return out;
}

export interface NdjsonLine {
  line: number;
  text: string;
}

/** Yields the non-empty lines of an NDJSON file in chunks of `size`. */
export async function* ndjsonChunks(file: string, size: number): AsyncGenerator<NdjsonLine[]> {
  const rl = readline.createInterface({ input: fs.createReadStream(file, 'utf8'), crlfDelay: Infinity });
  let chunk: NdjsonLine[] = [];
  let line = 0;
  for await (const text of rl) {
    line++;
    if (text.trim() === '') continue;
    chunk.push({ line, text });
    if (chunk.length >= size) {
      yield chunk;
      chunk = [];
    }
  }
  if (chunk.length) yield chunk;
}
