/**
 * $submit from two Stride processes at once (issue 20): every ready claim goes into exactly one file, and no control
 * number (ISA13, GS06, ST02) is used twice. PostgreSQL runs two `stride serve` processes on one database (one
 * $submit waits for the other's lock, then finds its claims sent); SQLite one process: the same requests must come
 * out the same.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Claim, Parameters } from '@medplum/fhirtypes';
import { describeEachEngine } from '../support/server.js';
import { fhir } from '../support/http.js';
import { startProcesses, type ProcessGroup } from './processes.js';
import { createPatient, createPractice } from '../claims/practice.js';
import { read837P } from '../claims/read-837p.js';

describeEachEngine('$submit from several processes at once', (engine) => {
  let g: ProcessGroup;
  beforeAll(async () => {
    g = await startProcesses(engine, engine.name === 'postgres' ? 2 : 1);
  }, 120_000);
  afterAll(async () => g?.close());

  it('four $submit requests at once through two processes put each ready claim in exactly one file, with no control number twice', async () => {
    const practice = await createPractice(g.at(0));
    for (let k = 0; k < 12; k++) {
      await createPatient(g.at(k), practice, { payer: practice.payers[k % 3]!, clinic: practice.clinics[k % 2]!, sessions: [{ date: '2026-11-12', services: [{ name: 'gait', minutes: 23 }] }] });
    }
    const ready = ((await fhir<Bundle>(g.at(0), 'GET', 'Claim?stage=ready&_count=1000')).body.entry ?? []).map((e) => (e.resource as Claim).id);
    expect(ready.length).toBeGreaterThanOrEqual(12);
    const replies = await Promise.all([0, 1, 2, 3].map((k) => fhir<Parameters>(g.at(k), 'POST', 'Claim/$submit', { resourceType: 'Parameters' })));
    expect(replies.map((r) => r.status)).toEqual([200, 200, 200, 200]);
    const files = replies.flatMap((r) => (r.body.parameter ?? []).filter((p) => p.name === 'file'));
    const texts = await Promise.all(files.map(async (f) => (await fetch(`${g.at(0)}/${f.part!.find((p) => p.name === 'binary')!.valueReference!.reference}`, { headers: { Accept: 'application/edi-x12' } })).text()));
    const read = texts.map(read837P);
    const sentClaims = read.flatMap((f) => f.claims.map((c) => c.controlNumber));
    expect(sentClaims.length).toBe(ready.length);
    expect(new Set(sentClaims).size).toBe(sentClaims.length);
    for (const numbers of [read.map((f) => f.interchange), read.map((f) => f.group), read.flatMap((f) => f.transactions)]) expect(new Set(numbers).size).toBe(numbers.length);
    expect(((await fhir<Bundle>(g.at(1), 'GET', 'Claim?stage=ready')).body.entry ?? []).length).toBe(0);
  }, 600_000);
});
