/**
 * What a search returns (issue 3, item 3): _include/_revinclude (:iterate, *), _sort, _count, paging links that stay
 * right while others write, _total, _summary, _elements and search.mode on entries.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { ids, keys, link, load, rejects, search } from './support.js';

const CPT = 'http://www.ama-assn.org/go/cpt';

function sessions(): Resource[] {
  const out: Resource[] = [
    { resourceType: 'Organization', id: 'clinic', name: 'Riverside Rehab' },
    { resourceType: 'Practitioner', id: 'okafor', name: [{ family: 'Okafor' }] },
    { resourceType: 'Patient', id: 'ann', name: [{ family: 'Berg', given: ['Ann'] }], birthDate: '1950-01-01', managingOrganization: { reference: 'Organization/clinic' } },
    { resourceType: 'Patient', id: 'bea', name: [{ family: 'Berg', given: ['Bea'] }], birthDate: '1960-01-01' },
    { resourceType: 'Patient', id: 'cal', name: [{ family: 'Adams', given: ['Cal'] }], birthDate: '1970-01-01' },
    { resourceType: 'Patient', id: 'dee', name: [{ family: 'Cole' }] },
  ];
  for (let i = 0; i < 3; i++) {
    out.push({ resourceType: 'Encounter', id: `enc-${i}`, status: 'finished', class: { code: 'AMB' }, subject: { reference: 'Patient/ann' }, period: { start: `2026-03-0${i + 1}T10:00:00Z` }, serviceProvider: { reference: 'Organization/clinic' } });
    out.push({ resourceType: 'Procedure', id: `proc-${i}`, status: 'completed', code: { coding: [{ system: CPT, code: '97116' }] }, subject: { reference: 'Patient/ann' }, encounter: { reference: `Encounter/enc-${i}` }, performer: [{ actor: { reference: 'Practitioner/okafor' } }] });
  }
  return out;
}

async function allPages(baseUrl: string, first: string): Promise<{ ids: string[]; pages: number }> {
  const seen: string[] = [];
  let url: string | undefined = `${baseUrl}/${first}`;
  let pages = 0;
  while (url) {
    const page: Bundle = (await fhir<Bundle>(url, 'GET', '')).body;
    seen.push(...ids(page));
    url = link(page, 'next');
    pages++;
  }
  return { ids: seen, pages };
}

describeEachEngine('search: results, paging, includes', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_DEFAULT_COUNT: '4', STRIDE_MAX_COUNT: '50' });
    await load(s.baseUrl, sessions());
  });
  afterAll(async () => s?.close());

  it('_include adds what the matches refer to, marked include; a target type narrows it', async () => {
    const b = await search(s.baseUrl, 'Procedure?_id=proc-0&_include=Procedure:subject&_include=Procedure:performer');
    expect(keys(b)).toEqual(['Procedure/proc-0']);
    expect(keys(b, 'include')).toEqual(['Patient/ann', 'Practitioner/okafor']);
    const narrowed = await search(s.baseUrl, 'Procedure?_id=proc-0&_include=Procedure:performer:Organization');
    expect(keys(narrowed, 'include')).toEqual([]);
    expect(keys(await search(s.baseUrl, 'Procedure?_id=proc-0&_include=*'), 'include')).toEqual(['Encounter/enc-0', 'Patient/ann', 'Practitioner/okafor']);
  });

  it('_revinclude adds the resources that refer to the matches; each included resource appears once', async () => {
    const b = await search(s.baseUrl, 'Encounter?_id=enc-0,enc-1&_revinclude=Procedure:encounter');
    expect(keys(b)).toEqual(['Encounter/enc-0', 'Encounter/enc-1']);
    expect(keys(b, 'include')).toEqual(['Procedure/proc-0', 'Procedure/proc-1']);
    const patients = await search(s.baseUrl, 'Patient?_id=ann&_revinclude=Procedure:subject&_revinclude=Encounter:subject');
    expect(keys(patients, 'include')).toHaveLength(6);
  });

  it(':iterate follows includes from included resources; without it they stop at the matches', async () => {
    const once = await search(s.baseUrl, 'Encounter?_id=enc-0&_revinclude=Procedure:encounter&_include=Procedure:performer');
    expect(keys(once, 'include')).toEqual(['Procedure/proc-0']);
    const iterated = await search(s.baseUrl, 'Encounter?_id=enc-0&_revinclude=Procedure:encounter&_include:iterate=Procedure:performer');
    expect(keys(iterated, 'include')).toEqual(['Practitioner/okafor', 'Procedure/proc-0']);
    const chain = await search(s.baseUrl, 'Procedure?_id=proc-0&_include=Procedure:subject&_include:iterate=Patient:organization');
    expect(keys(chain, 'include')).toEqual(['Organization/clinic', 'Patient/ann']);
  });

  it('bad includes are 400s', async () => {
    await rejects(s.baseUrl, 'Procedure?_include=Procedure:status', '_include');
    await rejects(s.baseUrl, 'Procedure?_include=Nope:subject', '_include');
    await rejects(s.baseUrl, 'Procedure?_include=subject', '_include');
    await rejects(s.baseUrl, 'Procedure?_include:deep=Procedure:subject', '_include:deep');
    await rejects(s.baseUrl, `Procedure?${Array.from({ length: 11 }, () => '_include=Procedure:subject').join('&')}`, 'At most 10');
  });

  it('_sort by several keys, - for descending; resources without a value come last', async () => {
    expect(ids(await search(s.baseUrl, 'Patient?_sort=family,given'))).toEqual(['cal', 'ann', 'bea', 'dee']);
    expect(ids(await search(s.baseUrl, 'Patient?_sort=family,-given'))).toEqual(['cal', 'bea', 'ann', 'dee']);
    expect(ids(await search(s.baseUrl, 'Patient?_sort=-birthdate'))).toEqual(['cal', 'bea', 'ann', 'dee']);
    expect(ids(await search(s.baseUrl, 'Patient?_sort=birthdate'))).toEqual(['ann', 'bea', 'cal', 'dee']);
    expect(ids(await search(s.baseUrl, 'Encounter?_sort=-date'))).toEqual(['enc-2', 'enc-1', 'enc-0']);
    expect(ids(await search(s.baseUrl, 'Patient?_sort=-_id'))).toEqual(['dee', 'cal', 'bea', 'ann']);
    await rejects(s.baseUrl, 'Patient?_sort=nonsense', '_sort');
  });

  it('_count: the configured default, a chosen size, and a 400 past the maximum', async () => {
    const b = await search(s.baseUrl, 'Patient');
    expect(b.entry).toHaveLength(4);
    expect((await search(s.baseUrl, 'Patient?_count=2')).entry).toHaveLength(2);
    await rejects(s.baseUrl, 'Patient?_count=51', '_count');
    await rejects(s.baseUrl, 'Patient?_count=-1', '_count');
  });

  it('paging: next and previous links walk the whole result, sorted or not', async () => {
    for (const query of ['Procedure?_count=1', 'Patient?_count=3&_sort=-birthdate', 'Patient?_count=1&_sort=family,given']) {
      const { ids: seen } = await allPages(s.baseUrl, query);
      const all = ids(await search(s.baseUrl, query.replace(/_count=\d+/, '_count=50')));
      expect(seen).toEqual(all);
    }
    const first = await search(s.baseUrl, 'Patient?_count=2&_sort=family');
    expect(link(first, 'previous')).toBeUndefined();
    const second = (await fhir<Bundle>(link(first, 'next') as string, 'GET', '')).body;
    const back = (await fhir<Bundle>(link(second, 'previous') as string, 'GET', '')).body;
    expect(ids(back)).toEqual(ids(first));
    expect(link(second, 'self')).toContain('_cursor=');
  });

  it('paging stays right while others write: no match repeated or skipped among those not changed', async () => {
    for (let i = 0; i < 6; i++) await fhir(s.baseUrl, 'PUT', `Observation/w${i}`, { resourceType: 'Observation', id: `w${i}`, status: 'final', code: { text: 'steps' } });
    const first = await search(s.baseUrl, 'Observation?code:text=steps&_count=2');
    // Others write between pages: new matches sorting before and after the cursor, and a deletion.
    await fhir(s.baseUrl, 'PUT', 'Observation/a-new', { resourceType: 'Observation', id: 'a-new', status: 'final', code: { text: 'steps' } });
    await fhir(s.baseUrl, 'PUT', 'Observation/z-new', { resourceType: 'Observation', id: 'z-new', status: 'final', code: { text: 'steps' } });
    await fhir(s.baseUrl, 'DELETE', 'Observation/w5');
    const rest = await allPages(s.baseUrl, (link(first, 'next') as string).slice(s.baseUrl.length + 1));
    expect([...ids(first), ...rest.ids]).toEqual(['w0', 'w1', 'w2', 'w3', 'w4', 'z-new']);
  });

  it('_offset pages by position for clients that ask for it', async () => {
    const b = await search(s.baseUrl, 'Patient?_count=2&_offset=2&_sort=_id');
    expect(ids(b)).toEqual(['cal', 'dee']);
    expect(link(b, 'previous')).toContain('_offset=0');
  });

  it('_total: accurate by default and on request, none leaves it out, estimate gives it for small results', async () => {
    expect((await search(s.baseUrl, 'Procedure?_count=1')).total).toBe(3);
    expect((await search(s.baseUrl, 'Procedure?_count=1&_total=accurate')).total).toBe(3);
    expect((await search(s.baseUrl, 'Procedure?_count=1&_total=none')).total).toBeUndefined();
    expect((await search(s.baseUrl, 'Procedure?_count=1&_total=estimate')).total).toBe(3);
    await rejects(s.baseUrl, 'Procedure?_total=some', '_total');
  });

  it('_summary=count returns the total alone; _summary=true and _elements subset every entry', async () => {
    const count = await search(s.baseUrl, 'Procedure?_summary=count');
    expect(count.total).toBe(3);
    expect(count.entry ?? []).toHaveLength(0);
    const summary = await search(s.baseUrl, 'Patient?_id=ann&_summary=true');
    expect(summary.entry?.[0].resource?.meta?.tag?.[0].code).toBe('SUBSETTED');
    const elements = await search(s.baseUrl, 'Patient?_id=ann&_elements=birthDate&_revinclude=Procedure:subject');
    const patient = elements.entry?.find((e) => e.search?.mode === 'match')?.resource as unknown as Record<string, unknown>;
    expect(patient.birthDate).toBe('1950-01-01');
    expect(patient.name).toBeUndefined();
    expect(keys(elements, 'include')).toHaveLength(3);
  });

  it('every entry has a fullUrl and its search mode; the Bundle is a searchset', async () => {
    const b = await search(s.baseUrl, 'Procedure?_id=proc-1&_include=Procedure:subject');
    expect(b.type).toBe('searchset');
    expect(b.entry?.map((e) => e.search?.mode)).toEqual(['match', 'include']);
    expect(b.entry?.[0].fullUrl).toBe(`${s.baseUrl}/Procedure/proc-1`);
  });

  it('a malformed or foreign _cursor is a 400', async () => {
    await rejects(s.baseUrl, 'Patient?_cursor=not-a-cursor', '_cursor');
    const sorted = await search(s.baseUrl, 'Patient?_count=1&_sort=family');
    const cursor = new URL(link(sorted, 'next') as string).searchParams.get('_cursor');
    await rejects(s.baseUrl, `Patient?_count=1&_cursor=${cursor}`, '_cursor');
  });
});
