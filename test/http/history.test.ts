/** Instance, type and system history with _count, _since and paging links (R4 http.html#history). */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const path = (url: string, base: string) => url.slice(base.length + 1);

describeEachEngine('history', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
    for (let i = 1; i <= 5; i++) await fhir(s.baseUrl, 'PUT', 'Goal/g1', { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'active', description: { text: `walk ${i * 10} m` }, subject: { reference: 'Patient/p' } });
    await fhir(s.baseUrl, 'PUT', 'Patient/p', { resourceType: 'Patient', id: 'p' });
  });
  afterAll(async () => s?.close());

  it('instance history lists every version newest first with a total', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history');
    expect(r.body.type).toBe('history');
    expect(r.body.total).toBe(5);
    expect(r.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['5', '4', '3', '2', '1']);
    expect(r.body.entry[4].request).toEqual({ method: 'POST', url: 'Goal' });
    expect(r.body.entry[0].request).toEqual({ method: 'PUT', url: 'Goal/g1' });
    expect(r.body.entry[0].response.etag).toBe('W/"5"');
    expect((await fhir(s.baseUrl, 'GET', 'Goal/nothing/_history')).status).toBe(404);
  });

  it('pages with _count and next/previous links that do not shift when others write in between', async () => {
    const first = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history?_count=2');
    expect(first.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['5', '4']);
    const next = first.body.link.find((l: any) => l.relation === 'next').url;
    await fhir(s.baseUrl, 'PUT', 'Goal/g1', { resourceType: 'Goal', id: 'g1', lifecycleStatus: 'completed', description: { text: 'walk 60 m' }, subject: { reference: 'Patient/p' } });
    const second = await fhir(s.baseUrl, 'GET', path(next, s.baseUrl));
    expect(second.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['3', '2']);
    const previous = second.body.link.find((l: any) => l.relation === 'previous').url;
    const back = await fhir(s.baseUrl, 'GET', path(previous, s.baseUrl));
    expect(back.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['5', '4']);
    const third = await fhir(s.baseUrl, 'GET', path(second.body.link.find((l: any) => l.relation === 'next').url, s.baseUrl));
    expect(third.body.entry.map((e: any) => e.resource.meta.versionId)).toEqual(['1']);
    expect(third.body.link.find((l: any) => l.relation === 'next')).toBeUndefined();
  });

  it('type history covers one type, system history all types', async () => {
    const type = await fhir(s.baseUrl, 'GET', 'Patient/_history');
    expect(type.body.entry.every((e: any) => e.resource.resourceType === 'Patient')).toBe(true);
    const system = await fhir(s.baseUrl, 'GET', '_history?_count=100');
    const types = new Set(system.body.entry.map((e: any) => e.resource.resourceType));
    expect(types).toEqual(new Set(['Goal', 'Patient']));
  });

  it('_since keeps only versions at or after the instant', async () => {
    const all = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history');
    const third = all.body.entry.find((e: any) => e.resource.meta.versionId === '3').resource.meta.lastUpdated;
    const since = await fhir(s.baseUrl, 'GET', `Goal/g1/_history?_since=${encodeURIComponent(third)}`);
    expect(since.body.entry.map((e: any) => Number(e.resource.meta.versionId)).every((v: number) => v >= 3)).toBe(true);
    expect(since.body.entry.length).toBe(all.body.entry.length - 2);
  });

  it('_count=0 gives the total and no entries, with no next link to loop on', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history?_count=0');
    expect(r.status).toBe(200);
    expect(r.body.total).toBeGreaterThanOrEqual(5);
    expect(r.body.entry ?? []).toEqual([]);
    expect(r.body.link.map((l: any) => l.relation)).toEqual(['self']);
  });

  it('a deletion is a DELETE entry without a resource; the versions before it stay readable', async () => {
    await fhir(s.baseUrl, 'PUT', 'Goal/g-del', { resourceType: 'Goal', id: 'g-del', lifecycleStatus: 'active', description: { text: 'stairs' }, subject: { reference: 'Patient/p' } });
    await fhir(s.baseUrl, 'DELETE', 'Goal/g-del');
    const r = await fhir(s.baseUrl, 'GET', 'Goal/g-del/_history');
    expect(r.body.total).toBe(2);
    expect(r.body.entry[0]).toMatchObject({ request: { method: 'DELETE', url: 'Goal/g-del' }, response: { etag: 'W/"2"' } });
    expect(r.body.entry[0].resource).toBeUndefined();
    const typeHistory = await fhir(s.baseUrl, 'GET', 'Goal/_history?_count=1');
    expect(typeHistory.body.entry[0].request).toEqual({ method: 'DELETE', url: 'Goal/g-del' });
  });

  it('type and system history page with links that stay put while others write', async () => {
    const first = await fhir(s.baseUrl, 'GET', '_history?_count=3');
    const firstIds = first.body.entry.map(entryKey);
    await fhir(s.baseUrl, 'PUT', 'Patient/p', { resourceType: 'Patient', id: 'p', active: true });
    await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' });
    const all = await fhir(s.baseUrl, 'GET', `_history?_count=100&_snapshot=${new URL(first.body.link[0].url).searchParams.get('_snapshot')}`);
    const second = await fhir(s.baseUrl, 'GET', path(first.body.link.find((l: any) => l.relation === 'next').url, s.baseUrl));
    expect(second.body.entry.map(entryKey)).toEqual(all.body.entry.slice(3, 6).map(entryKey));
    expect([...firstIds, ...second.body.entry.map(entryKey)]).toEqual(all.body.entry.slice(0, 6).map(entryKey));
    const fresh = await fhir(s.baseUrl, 'GET', '_history?_count=3');
    expect(fresh.body.entry[0].resource.resourceType).toBe('Patient');
    expect(fresh.body.entry.map(entryKey)).not.toEqual(firstIds);
  });

  it('_summary and _elements apply to the resources of a history page', async () => {
    const elements = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history?_elements=lifecycleStatus');
    expect(elements.body.entry).toHaveLength(6);
    for (const e of elements.body.entry) {
      // Goal.description and Goal.subject are mandatory (1..1): _elements keeps them (R4 search.html#elements).
      expect(Object.keys(e.resource).sort()).toEqual(['description', 'id', 'lifecycleStatus', 'meta', 'resourceType', 'subject']);
      expect(e.resource.meta.tag.map((t: any) => t.code)).toContain('SUBSETTED');
    }
    const count = await fhir(s.baseUrl, 'GET', 'Goal/g1/_history?_summary=count');
    expect(count.body.total).toBe(6);
    expect(count.body.entry).toBeUndefined();
  });

  it('a snapshot that is not a number is 400, not a server error', async () => {
    const r = await fhir(s.baseUrl, 'GET', '_history?_snapshot=latest');
    expect(r.status).toBe(400);
    expect(r.body.issue[0].expression).toEqual(['_snapshot']);
  });
});

/** One history entry as `Type/id/version`. */
function entryKey(e: any): string {
  const version = e.response.etag.replace(/^W\/"|"$/g, '');
  return `${e.request.url.split('/')[0]}/${e.fullUrl.split('/').pop()}/${version}`;
}
