/**
 * Durability: a server importing bundles is killed with SIGKILL part-way; after a restart every bundle is either
 * fully there or fully absent, every acknowledged bundle is there, and the database opens cleanly. SQLite is the
 * engine here because it is the embedded default whose durability Stride claims on its own; PostgreSQL's is the
 * database server's.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import net from 'node:net';
import { spawn, type ChildProcess } from 'node:child_process';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { CLI, ROOT } from '../support/cli.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';

const TAG = 'urn:stride:test:bundle';

function freePort(): Promise<number> {
  return new Promise((resolve) => {
    const srv = net.createServer().listen(0, '127.0.0.1', () => {
      const port = (srv.address() as net.AddressInfo).port;
      srv.close(() => resolve(port));
    });
  });
}

async function startServer(dataDir: string, port: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, 'serve'], {
    cwd: ROOT,
    env: { ...process.env, STRIDE_DATA_DIR: dataDir, STRIDE_PORT: String(port), STRIDE_LOG_LEVEL: 'warn' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  await new Promise<void>((resolve, reject) => {
    child.stdout!.on('data', (d) => String(d).includes('listening') && resolve());
    child.once('exit', (code) => reject(new Error(`server exited early with ${code}`)));
  });
  return child;
}

function tagged(file: string, k: number): { body: string; size: number } {
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
  for (const e of bundle.entry ?? []) e.resource!.meta = { ...e.resource!.meta, tag: [{ system: TAG, code: String(k) }] };
  return { body: JSON.stringify(bundle), size: bundle.entry?.length ?? 0 };
}

const missing = syntheaMissing();

describe.skipIf(!!missing)('kill -9 during import [sqlite]', () => {
  it('leaves every bundle whole or absent, keeps every acknowledged one, and the database opens cleanly', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-crash-'));
    const port = await freePort();
    const bundles = syntheaFiles().slice(0, 40).map(tagged);
    const server = await startServer(dataDir, port);
    const acknowledged = new Set<number>();
    let next = 0;
    const send = async (): Promise<void> => {
      while (next < bundles.length) {
        const k = next++;
        try {
          const res = await fetch(`http://127.0.0.1:${port}/fhir`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: bundles[k].body });
          if (res.status === 200) acknowledged.add(k);
          await res.arrayBuffer();
        } catch {
          return; // the server is gone
        }
      }
    };
    const senders = [send(), send(), send(), send()];
    while (acknowledged.size < 8) await new Promise((r) => setTimeout(r, 5));
    server.kill('SIGKILL');
    await Promise.all(senders);
    expect(acknowledged.size).toBeLessThan(bundles.length);

    const restarted = await startServer(dataDir, port);
    const meta = await fetch(`http://127.0.0.1:${port}/fhir/metadata`);
    expect(meta.status).toBe(200);
    restarted.kill('SIGTERM');
    await new Promise((r) => restarted.once('exit', r));

    const db = new Database(path.join(dataDir, 'stride.sqlite'), { readonly: true });
    expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
    const perBundle = new Map<number, number>();
    for (const row of db.prepare('SELECT content FROM resource WHERE deleted = 0').iterate() as Iterable<{ content: string }>) {
      const code = (JSON.parse(row.content).meta?.tag ?? []).find((t: { system: string }) => t.system === TAG)?.code;
      if (code !== undefined) perBundle.set(Number(code), (perBundle.get(Number(code)) ?? 0) + 1);
    }
    db.close();
    fs.rmSync(dataDir, { recursive: true, force: true });
    for (let k = 0; k < bundles.length; k++) {
      const count = perBundle.get(k) ?? 0;
      expect([0, bundles[k].size], `bundle ${k}`).toContain(count);
      if (acknowledged.has(k)) expect(count, `acknowledged bundle ${k}`).toBe(bundles[k].size);
    }
    expect([...perBundle.keys()].length).toBeGreaterThanOrEqual(acknowledged.size);
  }, 120_000);
});
