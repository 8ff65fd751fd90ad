/**
 * Each entry of a batch or transaction Bundle is an access of its own (issue 23 point 5): one AuditEvent per entry,
 * with that entry's outcome (a refused entry of a batch is a 403 beside the others' successes), besides the one for
 * the Bundle itself; a transaction that fails records each of its entries as failed, since none took effect.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, tokenFor } from '../support/auth.js';

describeEachEngine('AuditEvent for each entry of a Bundle', (engine) => {
  let s: TestServer;
  let admin: string;
  let events: any[];
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    admin = await tokenFor(s, 'system/*.cruds');
    await fhir(s.baseUrl, 'PUT', 'Patient/b1', { resourceType: 'Patient', id: 'b1' }, bearer(admin));
    const audited = await startTestServer(engine, { ...s.env, STRIDE_AUTH: 'on', STRIDE_AUDIT: 'on' });
    const patients = await tokenFor(audited, 'system/Patient.crs');
    const batch = await fhir(
      audited.baseUrl,
      'POST',
      '',
      {
        resourceType: 'Bundle',
        type: 'batch',
        entry: [
          { request: { method: 'GET', url: 'Patient/b1' } },
          { request: { method: 'GET', url: 'Observation?code=x' } },
          { resource: { resourceType: 'Patient', name: [{ family: 'Entry' }] }, request: { method: 'POST', url: 'Patient' } },
        ],
      },
      bearer(patients),
    );
    expect(batch.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['200', '403', '201']);
    const transaction = await fhir(
      audited.baseUrl,
      'POST',
      '',
      {
        resourceType: 'Bundle',
        type: 'transaction',
        entry: [
          { resource: { resourceType: 'Patient', name: [{ family: 'Rolled back' }] }, request: { method: 'POST', url: 'Patient' } },
          { resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' } }, request: { method: 'POST', url: 'Observation' } },
        ],
      },
      bearer(patients),
    );
    expect(transaction.status).toBe(403);
    await audited.close();
    const found = await fhir(s.baseUrl, 'GET', 'AuditEvent?_count=100', undefined, bearer(admin));
    events = found.body.entry.map((e: any) => e.resource);
  });
  afterAll(async () => s?.close());

  const summary = (e: any): string => `${e.subtype[0].code} ${e.outcome} ${e.outcomeDesc} ${e.entity?.[0]?.what?.reference ?? e.entity?.[0]?.description ?? ''}`;

  it('records the Bundle and each of its entries, each with its own outcome', () => {
    expect(events.map(summary).sort()).toEqual(
      [
        // The batch: the Bundle, then its three entries.
        'transaction 0 HTTP 200 ',
        'read 0 HTTP 200 Patient/b1',
        'search-type 4 HTTP 403 Observation',
        'create 0 HTTP 201 POST Patient',
        // The transaction refused for its Observation entry: the Bundle and both entries, none done.
        'transaction 4 HTTP 403 ',
        'create 4 HTTP 403 POST Patient',
        'create 4 HTTP 403 POST Observation',
      ].sort(),
    );
  });

  it('says who made the entry access, and what it asked', () => {
    const search = events.find((e) => e.subtype[0].code === 'search-type');
    expect(search.agent[0].who.identifier.value).toBe(events.find((e) => e.subtype[0].code === 'read').agent[0].who.identifier.value);
    expect(Buffer.from(search.entity[0].query, 'base64').toString()).toBe('code=x');
  });
});
