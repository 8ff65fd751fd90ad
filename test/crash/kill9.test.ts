/**
 * Durability (issue 2, DESIGN §4): a server loading transaction Bundles is killed with SIGKILL while requests are in
 * flight; after a restart on the same data the database opens cleanly, every Bundle is either wholly there or wholly
 * absent (current rows, history rows and index rows alike), and every Bundle whose POST was acknowledged is there.
 *
 * SQLite is the engine here because it is the embedded default whose durability Stride itself claims (WAL, one
 * COMMIT per group of transactions, a reply only after that COMMIT). On PostgreSQL the same guarantee is the database
 * server's, which a SIGKILL of a Stride process does not touch.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import Database from 'better-sqlite3';
import { describe, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { freePort, startServerProcess } from '../support/process.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';

const TAG = 'urn:stride:test:bundle';
const BUNDLES = 40;
const SENDERS = 4;

/** Bundle k with every resource tagged k, so that what is stored can be traced back to its Bundle. */
function tagged(file: string, k: number): { body: string; size: number } {
  const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
  for (const e of bundle.entry ?? []) e.resource!.meta = { ...e.resource!.meta, tag: [{ system: TAG, code: String(k) }] };
  return { body: JSON.stringify(bundle), size: bundle.entry?.length ?? 0 };
}

function inspect(file: string): { integrity: unknown; perBundle: Map<number, number>; orphans: Record<string, number> } {
  const db = new Database(file, { readonly: true });
  try {
    const integrity = db.pragma('integrity_check', { simple: true });
    const perBundle = new Map<number, number>();
    for (const row of db.prepare('SELECT content FROM resource WHERE deleted = 0').iterate() as Iterable<{ content: string }>) {
      const code = (JSON.parse(row.content).meta?.tag ?? []).find((t: { system: string }) => t.system === TAG)?.code;
      if (code !== undefined) perBundle.set(Number(code), (perBundle.get(Number(code)) ?? 0) + 1);
    }
    // Rows of the other tables that belong to no current resource: what a half-written transaction would leave.
    const tables = db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND (name = 'resource_history' OR name LIKE 'search_%')").pluck().all() as string[];
    const orphans: Record<string, number> = {};
    for (const t of tables) {
      orphans[t] = db.prepare(`SELECT COUNT(*) FROM ${t} x WHERE NOT EXISTS (SELECT 1 FROM resource r WHERE r.resource_type = x.resource_type AND r.id = x.id)`).pluck().get() as number;
    }
    orphans.missingHistory = db.prepare('SELECT COUNT(*) FROM resource r WHERE NOT EXISTS (SELECT 1 FROM resource_history h WHERE h.resource_type = r.resource_type AND h.id = r.id AND h.version_id = r.version_id)').pluck().get() as number;
    return { integrity, perBundle, orphans };
  } finally {
    db.close();
  }
}

const missing = syntheaMissing();
if (missing) console.warn(missing);

describe.skipIf(!!missing)('kill -9 during import [sqlite]', () => {
  it('leaves every bundle whole or absent, keeps every acknowledged one, and the database opens cleanly', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-crash-'));
    try {
      const port = await freePort();
      const bundles = syntheaFiles().slice(0, BUNDLES).map(tagged);
      const server = await startServerProcess({ STRIDE_DATA_DIR: dataDir }, port);
      const acknowledged = new Set<number>();
      let cutOff = 0; // requests that were in flight when the server died
      let next = 0;
      const send = async (): Promise<void> => {
        while (next < bundles.length) {
          const k = next++;
          try {
            const res = await fetch(`${server.baseUrl}`, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: bundles[k].body });
            await res.arrayBuffer();
            if (res.status === 200) acknowledged.add(k);
            else throw new Error(`bundle ${k}: ${res.status}`);
          } catch (err) {
            if (!String((err as Error).message).includes('fetch failed')) throw err;
            cutOff++;
            return; // the server is gone
          }
        }
      };
      const senders = Array.from({ length: SENDERS }, send);
      while (acknowledged.size < 8) await new Promise((r) => setTimeout(r, 2));
      server.child.kill('SIGKILL');
      await Promise.all(senders);
      expect(cutOff, 'requests in flight at the kill').toBeGreaterThan(0);
      expect(acknowledged.size).toBeLessThan(bundles.length);

      // Restart on the same data: it opens (WAL recovery) and takes writes again.
      const restarted = await startServerProcess({ STRIDE_DATA_DIR: dataDir }, port);
      try {
        const after = tagged(syntheaFiles()[0], BUNDLES);
        const res = await fetch(restarted.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: after.body });
        expect(res.status, await res.text().then((t) => t.slice(0, 300))).toBe(200);
      } finally {
        await restarted.stop();
      }

      const { integrity, perBundle, orphans } = inspect(path.join(dataDir, 'stride.sqlite'));
      expect(integrity).toBe('ok');
      expect(Object.values(orphans).every((n) => n === 0), JSON.stringify(orphans)).toBe(true);
      for (let k = 0; k < bundles.length; k++) {
        const count = perBundle.get(k) ?? 0;
        expect([0, bundles[k].size], `bundle ${k}: ${count} of ${bundles[k].size} resources stored`).toContain(count);
        if (acknowledged.has(k)) expect(count, `acknowledged bundle ${k}`).toBe(bundles[k].size);
      }
      expect(perBundle.get(BUNDLES), 'the bundle written after the restart').toBe(bundles[0].size);
      console.log(`kill -9: ${acknowledged.size} of ${BUNDLES} bundles acknowledged, ${cutOff} requests cut off, ${[...perBundle.keys()].filter((k) => k < BUNDLES).length} bundles stored whole`);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  }, 300_000);
});
