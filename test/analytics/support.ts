/** Loading a few Synthea patients for the export tests, and reading what the server holds to compare with. */
import fs from 'node:fs';
import { expect } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { syntheaFiles } from '../support/synthea.js';

/** The `n` smallest Synthea patient bundles (each carries its own Organization and Practitioner). */
export function smallestPatients(n: number): string[] {
  return syntheaFiles()
    .filter((f) => !/(hospital|practitioner)Information/.test(f))
    .map((f) => ({ f, size: fs.statSync(f).size }))
    .sort((a, b) => a.size - b.size)
    .slice(0, n)
    .map((x) => x.f);
}

/** POSTs transaction bundles; returns the `Type/id` of every resource created. */
export async function loadBundles(baseUrl: string, files: string[]): Promise<string[]> {
  const keys: string[] = [];
  for (const file of files) {
    const res = await fetch(baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: fs.readFileSync(file, 'utf8') });
    const reply = (await res.json()) as Bundle;
    expect(res.status, file).toBe(200);
    for (const e of reply.entry ?? []) keys.push((e.response?.location as string).split('/').slice(0, 2).join('/'));
  }
  return keys;
}

/** The stored JSON a read returns, by `Type/id`. */
export async function readAll(baseUrl: string, keys: Iterable<string>): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  for (const key of keys) {
    const res = await fetch(`${baseUrl}/${key}`);
    expect(res.status, key).toBe(200);
    out.set(key, await res.text());
  }
  return out;
}
