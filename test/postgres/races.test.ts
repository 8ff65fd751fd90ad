/**
 * Races between Stride processes on one database (DESIGN §4: races are settled by the database, never by timing).
 * Every request of a race is sent at once (Promise.all), alternating between the processes. PostgreSQL runs two
 * `stride serve` processes on one database; SQLite runs one process, because one SQLite file has one writer and
 * Stride serialises its write transactions: the same races must come out the same there.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/server.js';
import { fhir, type FhirReply } from '../support/http.js';
import { startProcesses, type ProcessGroup } from './processes.js';

const SYSTEM = 'urn:stride:test:race';
const run = Date.now().toString(36);

const patient = (value: string, extra: object = {}) => ({ resourceType: 'Patient', identifier: [{ system: SYSTEM, value }], ...extra });
const marker = (r: { identifier?: { system?: string; value?: string }[] }) => r.identifier?.find((i) => i.system === `${SYSTEM}:marker`)?.value;
const withMarker = (id: string, k: number) => ({ resourceType: 'Patient', id, identifier: [{ system: `${SYSTEM}:marker`, value: String(k) }] });

/** Status -> how many replies had it, e.g. { 200: 49, 201: 1 }. */
function tally(replies: FhirReply[]): Record<number, number> {
  const out: Record<number, number> = {};
  for (const r of replies) out[r.status] = (out[r.status] ?? 0) + 1;
  return out;
}

async function versionsOf(baseUrl: string, path: string): Promise<any[]> {
  const h = await fhir(baseUrl, 'GET', `${path}/_history?_count=1000`);
  expect(h.status).toBe(200);
  return (h.body.entry ?? []).map((e: any) => e.resource).sort((a: any, b: any) => Number(a.meta.versionId) - Number(b.meta.versionId));
}

const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

describeEachEngine('races between Stride processes', (engine) => {
  let g: ProcessGroup;
  beforeAll(async () => {
    g = await startProcesses(engine, engine.name === 'postgres' ? 2 : 1);
  }, 120_000);
  afterAll(async () => g?.close());

  it('50 conditional creates with one If-None-Exist make exactly one resource; the others get 200 and its id', async () => {
    const value = `cc-${run}`;
    // Half the requests spell the criteria differently (order, percent-encoding): they are the same criteria.
    const spellings = [`identifier=${SYSTEM}|${value}&active=true`, `active=true&identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`];
    const replies = await Promise.all(
      range(0, 49).map((k) => fhir(g.at(k), 'POST', 'Patient', patient(value, { active: true }), { 'if-none-exist': spellings[k % 2] })),
    );
    expect(tally(replies)).toEqual({ 200: 49, 201: 1 });
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    for (const base of g.servers.map((s) => s.baseUrl)) {
      const found = await fhir(base, 'GET', `Patient?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`);
      expect(found.body.entry.map((e: any) => e.resource.id)).toEqual([replies[0].body.id]);
    }
  });

  it('20 conditional updates of criteria that match nothing yet create one resource and update it 19 times', async () => {
    const value = `cu-${run}`;
    const url = `Patient?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`;
    const replies = await Promise.all(range(1, 20).map((k) => fhir(g.at(k), 'PUT', url, patient(value, { birthDate: `2000-01-${String(k).padStart(2, '0')}` }))));
    expect(tally(replies)).toEqual({ 200: 19, 201: 1 });
    expect(new Set(replies.map((r) => r.body.id)).size).toBe(1);
    expect(replies.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(range(1, 20));
  });

  it('racing updates with one If-Match: exactly one wins, the others get 412', async () => {
    const created = await fhir(g.at(0), 'POST', 'Patient', patient(`im-${run}`));
    const id = created.body.id;
    const replies = await Promise.all(range(1, 20).map((k) => fhir(g.at(k), 'PUT', `Patient/${id}`, withMarker(id, k), { 'if-match': 'W/"1"' })));
    expect(tally(replies)).toEqual({ 200: 1, 412: 19 });
    const winner = replies.find((r) => r.status === 200)!;
    const current = await fhir(g.at(1), 'GET', `Patient/${id}`);
    expect(current.body.meta.versionId).toBe('2');
    expect(marker(current.body)).toBe(marker(winner.body));
  });

  it('40 racing plain updates give versions 1..41 with no gap and no lost update', async () => {
    const created = await fhir(g.at(0), 'POST', 'Patient', patient(`pu-${run}`));
    const id = created.body.id;
    const replies = await Promise.all(range(1, 40).map((k) => fhir(g.at(k), 'PUT', `Patient/${id}`, withMarker(id, k))));
    expect(tally(replies)).toEqual({ 200: 40 });
    expect(replies.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(range(2, 41));
    const versions = await versionsOf(g.at(1), `Patient/${id}`);
    expect(versions.map((v) => Number(v.meta.versionId))).toEqual(range(1, 41));
    // Every update is in the history exactly once, at the version its reply named.
    expect(versions.slice(1).map(marker).sort((a, b) => Number(a) - Number(b))).toEqual(range(1, 40).map(String));
    for (const r of replies) expect(marker(versions[Number(r.body.meta.versionId) - 1])).toBe(marker(r.body));
  });

  it('20 racing JSON Patches without If-Match all apply: every one is in the result, versions 2..21', async () => {
    const created = await fhir(g.at(0), 'POST', 'Patient', patient(`jp-${run}`));
    const id = created.body.id;
    const add = (k: number) => [{ op: 'add', path: '/identifier/-', value: { system: `${SYSTEM}:marker`, value: String(k) } }];
    const replies = await Promise.all(range(1, 20).map((k) => fhir(g.at(k), 'PATCH', `Patient/${id}`, add(k), { 'content-type': 'application/json-patch+json' })));
    expect(tally(replies)).toEqual({ 200: 20 });
    expect(replies.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(range(2, 21));
    const final = await fhir(g.at(1), 'GET', `Patient/${id}`);
    const markers = final.body.identifier.filter((i: any) => i.system === `${SYSTEM}:marker`).map((i: any) => Number(i.value));
    expect(markers.sort((a: number, b: number) => a - b)).toEqual(range(1, 20));
  });

  it('30 racing upserts of one new client id: exactly one 201, then 29 updates, versions 1..30', async () => {
    const id = `upsert-${run}`;
    const replies = await Promise.all(range(1, 30).map((k) => fhir(g.at(k), 'PUT', `Patient/${id}`, withMarker(id, k))));
    expect(tally(replies)).toEqual({ 200: 29, 201: 1 });
    expect(replies.find((r) => r.status === 201)!.body.meta.versionId).toBe('1');
    expect(replies.map((r) => Number(r.body.meta.versionId)).sort((a, b) => a - b)).toEqual(range(1, 30));
    const versions = await versionsOf(g.at(0), `Patient/${id}`);
    expect(versions.map((v) => Number(v.meta.versionId))).toEqual(range(1, 30));
    expect(versions.map(marker).sort((a, b) => Number(a) - Number(b))).toEqual(range(1, 30).map(String));
  });

});
