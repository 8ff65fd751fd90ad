/**
 * Where searches are made and how unknown or bad parameters are answered (issue 3, items 4-6): GET and POST
 * _search, system search, Prefer: handling, malformed values, limits, the CapabilityStatement, indexing on update
 * and delete, and conditional writes that search.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, CapabilityStatement, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { found, keys, load, rejects, search } from './support.js';

const FIXTURES: Resource[] = [
  { resourceType: 'Patient', id: 'p1', name: [{ family: 'Lind' }], gender: 'female', meta: { tag: [{ system: 'urn:stride', code: 'demo' }] } },
  { resourceType: 'Patient', id: 'p2', name: [{ family: 'Lund' }], gender: 'male' },
  { resourceType: 'Practitioner', id: 'dr', name: [{ family: 'Lind' }], meta: { tag: [{ system: 'urn:stride', code: 'demo' }] } },
  { resourceType: 'Observation', id: 'o1', status: 'final', code: { text: 'gait speed' }, subject: { reference: 'Patient/p1' } },
];

function outcome(b: Bundle): OperationOutcome | undefined {
  return b.entry?.find((e) => e.search?.mode === 'outcome')?.resource as OperationOutcome | undefined;
}

describeEachEngine('search: where, handling, limits', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_MAX_COUNT: '100' });
    await load(s.baseUrl, FIXTURES);
  });
  afterAll(async () => s?.close());

  it('POST [type]/_search takes form-encoded parameters, alone or with URL parameters', async () => {
    const form = { 'content-type': 'application/x-www-form-urlencoded' };
    const r = await fhir<Bundle>(s.baseUrl, 'POST', 'Patient/_search', 'family=lind&gender=female', form);
    expect(r.status).toBe(200);
    expect(keys(r.body)).toEqual(['Patient/p1']);
    const mixed = await fhir<Bundle>(s.baseUrl, 'POST', 'Patient/_search?family=l', 'gender=male', form);
    expect(keys(mixed.body)).toEqual(['Patient/p2']);
  });

  it('system search across the types of _type, with parameters they share', async () => {
    expect(keys(await search(s.baseUrl, '?_type=Patient,Practitioner&_tag=urn:stride|demo'))).toEqual(['Patient/p1', 'Practitioner/dr']);
    expect(keys(await search(s.baseUrl, '?_type=Patient,Practitioner&name=lind'))).toEqual(['Patient/p1', 'Practitioner/dr']);
    const paged = await search(s.baseUrl, '?_type=Patient,Practitioner,Observation&_count=2');
    expect(paged.total).toBe(4);
    expect(paged.link?.find((l) => l.relation === 'next')?.url).toContain('_type=');
    await rejects(s.baseUrl, '?_type=Patient,Nonsense', '_type');
  });

  it('lenient (default): an unknown parameter is ignored and reported in an outcome entry', async () => {
    const b = await search(s.baseUrl, 'Patient?family=lind&colour=blue');
    expect(keys(b)).toEqual(['Patient/p1']);
    const oo = outcome(b);
    expect(oo?.issue[0].severity).toBe('warning');
    expect(oo?.issue[0].details?.text).toContain('colour');
    const lenient = await search(s.baseUrl, 'Patient?colour=blue', { prefer: 'handling=lenient' });
    expect(keys(lenient)).toEqual(['Patient/p1', 'Patient/p2']);
    expect(outcome(await search(s.baseUrl, 'Patient?family=lind'))).toBeUndefined();
  });

  it('strict: an unknown parameter is a 400 naming it', async () => {
    await rejects(s.baseUrl, 'Patient?family=lind&colour=blue', 'colour', { prefer: 'handling=strict' });
    await rejects(s.baseUrl, 'Patient?subject.name=x', 'subject.name', { prefer: 'handling=strict' });
    expect(keys(await search(s.baseUrl, 'Patient?family=lind', { prefer: 'handling=strict' }))).toEqual(['Patient/p1']);
  });

  it('malformed values are 400s naming the parameter, whatever the handling', async () => {
    await rejects(s.baseUrl, 'Patient?birthdate=31/12/1980', 'birthdate');
    await rejects(s.baseUrl, 'Patient?birthdate=zz1980', 'birthdate');
    await rejects(s.baseUrl, 'Observation?value-quantity=much', 'value-quantity');
    await rejects(s.baseUrl, 'Observation?subject=not%20an%20id', 'subject');
    await rejects(s.baseUrl, 'Patient?_count=lots', '_count');
  });

  it('limits: OR-list length, chain depth, includes and page size are clear 400s', async () => {
    await rejects(s.baseUrl, `Patient?_id=${Array.from({ length: 101 }, (_, i) => `id${i}`).join(',')}`, 'at most 100');
    expect(await found(s.baseUrl, `Patient?_id=${Array.from({ length: 100 }, (_, i) => `p${i}`).join(',')}`)).toEqual(['p1', 'p2']);
    await rejects(s.baseUrl, 'Observation?subject:Patient.organization.partof.partof.partof.name=x', 'deeper than 4');
    await rejects(s.baseUrl, 'Patient?_count=101', '_count');
    await rejects(s.baseUrl, `Patient?${Array.from({ length: 51 }, (_, i) => `family=x${i}`).join('&')}`, 'at most 50');
  });

  it('the index follows every write: update replaces the old values, delete removes the resource', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/moving', { resourceType: 'Patient', id: 'moving', name: [{ family: 'Before' }] });
    expect(await found(s.baseUrl, 'Patient?family=before')).toEqual(['moving']);
    await fhir(s.baseUrl, 'PUT', 'Patient/moving', { resourceType: 'Patient', id: 'moving', name: [{ family: 'After' }] });
    expect(await found(s.baseUrl, 'Patient?family=before')).toEqual([]);
    expect(await found(s.baseUrl, 'Patient?family=after')).toEqual(['moving']);
    await fhir(s.baseUrl, 'DELETE', 'Patient/moving');
    expect(await found(s.baseUrl, 'Patient?family=after')).toEqual([]);
    await fhir(s.baseUrl, 'PUT', 'Patient/moving', { resourceType: 'Patient', id: 'moving', name: [{ family: 'Again' }] });
    expect(await found(s.baseUrl, 'Patient?family=again')).toEqual(['moving']);
  });

  it('a rolled-back transaction leaves no index rows behind', async () => {
    const bad = await fhir(s.baseUrl, 'POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { resource: { resourceType: 'Patient', name: [{ family: 'Ghost' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { resourceType: 'Patient', gender: 'not-a-gender' }, request: { method: 'POST', url: 'Patient' } },
      ],
    });
    expect(bad.status).toBeGreaterThanOrEqual(400);
    expect(await found(s.baseUrl, 'Patient?family=ghost')).toEqual([]);
  });

  it('conditional create and update find their match through the index', async () => {
    const body = { resourceType: 'Patient', identifier: [{ system: 'urn:mrn', value: 'C-1' }], name: [{ family: 'Cond' }] };
    const first = await fhir(s.baseUrl, 'POST', 'Patient', body, { 'if-none-exist': 'identifier=urn:mrn|C-1' });
    const again = await fhir(s.baseUrl, 'POST', 'Patient', body, { 'if-none-exist': 'identifier=urn:mrn|C-1' });
    expect(first.status).toBe(201);
    expect(again.status).toBe(200);
    expect(again.body.id).toBe(first.body.id);
    const updated = await fhir(s.baseUrl, 'PUT', 'Patient?identifier=urn:mrn|C-1', { ...body, gender: 'other' });
    expect(updated.body.id).toBe(first.body.id);
    expect(await found(s.baseUrl, 'Patient?identifier=C-1&gender=other')).toEqual([first.body.id]);
  });

  it('the CapabilityStatement lists the search parameters each type supports', async () => {
    const cs = (await fhir<CapabilityStatement>(s.baseUrl, 'GET', 'metadata')).body;
    const observation = cs.rest?.[0].resource?.find((r) => r.type === 'Observation');
    const names = observation?.searchParam?.map((p) => p.name) ?? [];
    expect(names).toEqual(expect.arrayContaining(['_id', '_lastUpdated', '_tag', 'code', 'subject', 'date', 'value-quantity', 'code-value-quantity']));
    expect(observation?.searchParam?.find((p) => p.name === 'code')?.type).toBe('token');
    expect(names).not.toContain('_text');
    expect(cs.rest?.[0].resource?.find((r) => r.type === 'Location')?.searchParam?.map((p) => p.name)).not.toContain('near');
  });
});
