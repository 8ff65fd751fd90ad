/**
 * AuditEvents (issue 23 point 5): one for every access, refusals included, in the IHE BALP basic shapes, valid R4,
 * written in the background and all there after a clean shutdown; searchable with the scope for it, never editable.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, tokenFor } from '../support/auth.js';

describeEachEngine('AuditEvent for every access', (engine) => {
  let s: TestServer;
  let admin: string;
  let events: any[];
  let patientsClient: string;
  beforeAll(async () => {
    // `s` does not audit (its own accesses stay out of the count); `audited` runs on the same database and does.
    s = await startTestServer(engine, AUTH_ON);
    admin = await tokenFor(s, 'system/*.cruds');
    await fhir(s.baseUrl, 'PUT', 'Patient/p1', { resourceType: 'Patient', id: 'p1' }, bearer(admin));
    const audited = await startTestServer(engine, { ...s.env, STRIDE_AUTH: 'on', STRIDE_AUDIT: 'on' });
    const patients = await tokenFor(audited, 'system/Patient.crs');
    patientsClient = JSON.parse(Buffer.from(patients.split('.')[1], 'base64url').toString()).client_id;
    const replies = [
      await fhir(audited.baseUrl, 'GET', 'Patient/p1', undefined, bearer(patients)),
      await fhir(audited.baseUrl, 'GET', 'Observation/o1', undefined, bearer(patients)),
      await fhir(audited.baseUrl, 'GET', 'Patient/p1'),
      await fhir(audited.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Audit' }] }, bearer(patients)),
      await fhir(audited.baseUrl, 'GET', 'Patient?name=Audit', undefined, bearer(patients)),
    ];
    expect(replies.map((r) => r.status)).toEqual([200, 403, 401, 201, 200]);
    // A clean shutdown writes what is still queued.
    await audited.close();
    const found = await fhir(s.baseUrl, 'GET', 'AuditEvent?_count=100&_sort=date', undefined, bearer(admin));
    events = found.body.entry.map((e: any) => e.resource);
  });
  afterAll(async () => s?.close());

  // Accesses a millisecond apart are recorded at the same instant: the order of equal dates is not the access order,
  // so events are compared as a set and found by what they say.
  it('records one AuditEvent per access, with its outcome, refusals included', () => {
    expect(events.map((e) => [e.subtype[0].code, e.action, e.outcome]).sort()).toEqual([
      ['read', 'R', '0'],
      ['read', 'R', '4'],
      ['read', 'R', '4'],
      ['create', 'C', '0'],
      ['search-type', 'E', '0'],
    ].sort());
  });

  it('says who, what, when and from where (BALP basic shapes)', () => {
    const read = events.find((e) => e.subtype[0].code === 'read' && e.outcome === '0');
    const refused = events.find((e) => e.outcome === '4' && e.agent[0].who?.identifier);
    const anonymous = events.find((e) => e.outcome === '4' && !e.agent[0].who?.identifier);
    const search = events.find((e) => e.subtype[0].code === 'search-type');
    expect(read.type).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' });
    expect(read.agent[0]).toMatchObject({ requestor: true, who: { identifier: { value: patientsClient } }, network: { address: expect.stringMatching(/127\.0\.0\.1/) } });
    expect(read.agent[0].type.coding[0].code).toBe('110153');
    expect(read.agent[1].type.coding[0].code).toBe('110152');
    expect(read.entity[0].what.reference).toBe('Patient/p1');
    expect(refused.outcomeDesc).toBe('HTTP 403');
    expect(anonymous.agent[0].who.identifier).toBeUndefined();
    expect(anonymous.outcomeDesc).toBe('HTTP 401');
    expect(Buffer.from(search.entity[0].query, 'base64').toString()).toBe('name=Audit');
    expect(search.entity[0].role.code).toBe('24');
    expect(Date.parse(read.recorded)).toBeLessThanOrEqual(Date.parse(search.recorded));
  });

  it('writes valid R4 AuditEvents', async () => {
    for (const event of events) {
      const { id: _id, meta: _meta, ...rest } = event;
      const r = await fhir(s.baseUrl, 'POST', 'AuditEvent/$validate', rest, bearer(await tokenFor(s, 'system/AuditEvent.c')));
      expect(r.body.issue.filter((i: any) => i.severity === 'error'), JSON.stringify(r.body)).toEqual([]);
    }
  });

  it('is searchable with the scope for it, and with no other', async () => {
    const allowed = await fhir(s.baseUrl, 'GET', 'AuditEvent?outcome=4&_summary=count', undefined, bearer(await tokenFor(s, 'system/AuditEvent.rs')));
    expect(allowed.body.total).toBe(2);
    expect((await fhir(s.baseUrl, 'GET', 'AuditEvent', undefined, bearer(await tokenFor(s, 'system/Patient.rs')))).status).toBe(403);
  });

  it('is never changed or deleted, not even by a client with every scope', async () => {
    const id = events[0].id;
    expect((await fhir(s.baseUrl, 'PUT', `AuditEvent/${id}`, { ...events[0], outcome: '0' }, bearer(admin))).status).toBe(403);
    expect((await fhir(s.baseUrl, 'DELETE', `AuditEvent/${id}`, undefined, bearer(admin))).status).toBe(403);
    expect((await fhir(s.baseUrl, 'PATCH', `AuditEvent/${id}`, [{ op: 'remove', path: '/agent' }], { ...bearer(admin), 'content-type': 'application/json-patch+json' })).status).toBe(403);
    expect((await fhir(s.baseUrl, 'GET', `AuditEvent/${id}`, undefined, bearer(admin))).body.meta.versionId).toBe('1');
  });
});
