/**
 * Racing transaction Bundles (R4 http.html#transaction) between Stride processes on one database: they commit in
 * some serial order. Entries touch the same resources in opposite orders, so on PostgreSQL some transactions
 * deadlock; the database detects it and Stride retries the loser, so no client sees a 5xx. PostgreSQL runs two
 * processes, SQLite one (one writer per file; its transactions are serialised and must give the same results).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine } from '../support/server.js';
import { fhir } from '../support/http.js';
import { startProcesses, type ProcessGroup } from './processes.js';

const SYSTEM = 'urn:stride:test:race';
const COUNTER = 'urn:stride:test:counter';
const run = Date.now().toString(36);
const range = (from: number, to: number) => Array.from({ length: to - from + 1 }, (_, i) => from + i);

const put = (resource: any, ifMatch?: string) => ({ resource, request: { method: 'PUT', url: `Patient/${resource.id}`, ...(ifMatch ? { ifMatch } : {}) } });
const transaction = (entry: object[]) => ({ resourceType: 'Bundle', type: 'transaction', entry });
const marker = (r: any) => r.identifier?.find((i: any) => i.system === `${SYSTEM}:marker`)?.value;
const counter = (r: any) => r.extension?.find((e: any) => e.url === COUNTER)?.valueInteger as number;

async function history(baseUrl: string, path: string): Promise<any[]> {
  const h = await fhir(baseUrl, 'GET', `${path}/_history?_count=1000`);
  return (h.body.entry ?? []).map((e: any) => e.resource).sort((a: any, b: any) => Number(a.meta.versionId) - Number(b.meta.versionId));
}

describeEachEngine('racing transactions between Stride processes', (engine) => {
  let g: ProcessGroup;
  beforeAll(async () => {
    g = await startProcesses(engine, engine.name === 'postgres' ? 2 : 1);
  }, 120_000);
  afterAll(async () => g?.close());

  it('20 transactions upserting the same two new resources in opposite orders commit in one serial order', async () => {
    const a = `txa-${run}`;
    const b = `txb-${run}`;
    // Transaction k writes marker k into both, in the order a-b or b-a, and creates a Practitioner both refer to by
    // its urn:uuid: a retried transaction must still point at the Practitioner it actually created.
    const replies = await Promise.all(
      range(1, 20).map((k) => {
        const gp = `urn:uuid:00000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
        const write = (id: string) => put({ resourceType: 'Patient', id, identifier: [{ system: `${SYSTEM}:marker`, value: String(k) }], generalPractitioner: [{ reference: gp }] });
        const pair = k % 2 ? [write(a), write(b)] : [write(b), write(a)];
        const practitioner = { fullUrl: gp, resource: { resourceType: 'Practitioner', name: [{ family: `GP ${k}` }] }, request: { method: 'POST', url: 'Practitioner' } };
        return fhir(g.at(k), 'POST', '', transaction([...pair, practitioner]));
      }),
    );
    expect(replies.map((r) => r.status), g.servers.map((s) => s.log()).join('\n')).toEqual(range(1, 20).map(() => 200));
    // One transaction created both (201 for each of its two Patient entries); every other one updated both.
    const created = replies.filter((r) => r.body.entry.slice(0, 2).every((e: any) => e.response.status.startsWith('201')));
    const updated = replies.filter((r) => r.body.entry.slice(0, 2).every((e: any) => e.response.status.startsWith('200')));
    expect([created.length, updated.length]).toEqual([1, 19]);
    const [ha, hb] = [await history(g.at(0), `Patient/${a}`), await history(g.at(1), `Patient/${b}`)];
    expect(ha.map((v) => Number(v.meta.versionId))).toEqual(range(1, 20));
    expect(hb.map((v) => Number(v.meta.versionId))).toEqual(range(1, 20));
    // One serial order: the n-th version of a and the n-th version of b came from the same transaction.
    expect(ha.map(marker)).toEqual(hb.map(marker));
    expect(ha.map(marker).sort((x, y) => Number(x) - Number(y))).toEqual(range(1, 20).map(String));
    for (const v of [...ha, ...hb]) {
      const gp = await fhir(g.at(0), 'GET', v.generalPractitioner[0].reference);
      expect(gp.status, `${v.id} version ${v.meta.versionId} refers to ${v.generalPractitioner[0].reference}`).toBe(200);
      expect(gp.body.name[0].family).toBe(`GP ${marker(v)}`);
    }
  });

  it('8 clients each add 1 three times to a counter in two resources with If-Match; both end at 24', async () => {
    const ids = [`cnta-${run}`, `cntb-${run}`];
    const start = (id: string) => ({ resourceType: 'Patient', id, extension: [{ url: COUNTER, valueInteger: 0 }] });
    for (const id of ids) expect((await fhir(g.at(0), 'PUT', `Patient/${id}`, start(id))).status).toBe(201);
    const statuses: number[] = [];
    const client = async (c: number): Promise<void> => {
      for (let done = 0; done < 3; ) {
        const base = g.at(c + done);
        const current = await Promise.all(ids.map((id) => fhir(base, 'GET', `Patient/${id}`)));
        const entries = current.map((r) => put({ ...r.body, extension: [{ url: COUNTER, valueInteger: counter(r.body) + 1 }] }, `W/"${r.body.meta.versionId}"`));
        const reply = await fhir(base, 'POST', '', transaction(c % 2 ? entries : entries.reverse()));
        statuses.push(reply.status);
        if (reply.status === 200) done++;
      }
    };
    await Promise.all(range(1, 8).map(client));
    // A stale read loses with 412 and the client reads again; nothing else may come back.
    expect(statuses.filter((s) => s !== 200 && s !== 412)).toEqual([]);
    expect(statuses.filter((s) => s === 200).length).toBe(24);
    for (const id of ids) {
      const final = await fhir(g.at(1), 'GET', `Patient/${id}`);
      expect(counter(final.body)).toBe(24);
      expect(final.body.meta.versionId).toBe('25');
    }
  });

  it('20 transactions with the same conditional create make one Patient, and every Observation refers to it', async () => {
    const value = `txcc-${run}`;
    const replies = await Promise.all(
      range(1, 20).map((k) => {
        const p = `urn:uuid:10000000-0000-4000-8000-${String(k).padStart(12, '0')}`;
        return fhir(g.at(k), 'POST', '', transaction([
          { fullUrl: p, resource: { resourceType: 'Patient', identifier: [{ system: SYSTEM, value }] }, request: { method: 'POST', url: 'Patient', ifNoneExist: `identifier=${SYSTEM}|${value}` } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: `gait speed ${k}` }, subject: { reference: p } }, request: { method: 'POST', url: 'Observation' } },
        ]));
      }),
    );
    expect(replies.map((r) => r.status)).toEqual(range(1, 20).map(() => 200));
    const patientStatuses = replies.map((r) => r.body.entry[0].response.status.slice(0, 3));
    expect(patientStatuses.filter((s) => s === '201').length).toBe(1);
    expect(patientStatuses.filter((s) => s === '200').length).toBe(19);
    const found = await fhir(g.at(0), 'GET', `Patient?identifier=${encodeURIComponent(`${SYSTEM}|${value}`)}`);
    expect(found.body.entry.length).toBe(1);
    const patientId = found.body.entry[0].resource.id;
    for (const r of replies) {
      const obs = await fhir(g.at(1), 'GET', r.body.entry[1].response.location.replace(/\/_history\/.*$/, ''));
      expect(obs.body.subject.reference).toBe(`Patient/${patientId}`);
    }
  });
});
