/**
 * Scopes on every interaction and operation (issue 23): for each, a token with the scope it needs succeeds and one
 * without gets a 403 OperationOutcome that says nothing about the data (the same answer for a resource that exists
 * and one that does not); what _include, _revinclude, _has, chains and _summary=count would reveal is held back.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, tokenFor } from '../support/auth.js';

const patient = { resourceType: 'Patient', id: 'p1', name: [{ family: 'Rivera' }] };
const observation = { resourceType: 'Observation', id: 'o1', status: 'final', code: { coding: [{ system: 'http://loinc.org', code: '41909-3' }] }, subject: { reference: 'Patient/p1' } };
const claimLike = { resourceType: 'Patient', name: [{ family: 'New' }] };
const jsonPatch = [{ op: 'replace', path: '/name/0/family', value: 'Rivera-Diaz' }];

interface Case {
  name: string;
  method: string;
  path: string;
  body?: unknown;
  headers?: Record<string, string>;
  /** A scope that allows it, and the status it then gets. */
  allowed?: [string, number];
  /** A scope that does not. */
  denied: string;
}

const CASES: Case[] = [
  { name: 'read', method: 'GET', path: 'Patient/p1', allowed: ['system/Patient.r', 200], denied: 'system/Patient.s system/Observation.rs' },
  { name: 'read of a resource that does not exist', method: 'GET', path: 'Patient/nope', allowed: ['system/Patient.r', 404], denied: 'system/Observation.rs' },
  { name: 'vread', method: 'GET', path: 'Patient/p1/_history/1', allowed: ['system/Patient.r', 200], denied: 'system/Patient.s' },
  { name: 'instance history', method: 'GET', path: 'Patient/p1/_history', allowed: ['system/Patient.r', 200], denied: 'system/Patient.s' },
  { name: 'instance history of nothing', method: 'GET', path: 'Patient/nope/_history', allowed: ['system/Patient.r', 404], denied: 'system/Patient.s' },
  { name: 'type history', method: 'GET', path: 'Patient/_history', allowed: ['system/Patient.s', 200], denied: 'system/Patient.r' },
  { name: 'system history', method: 'GET', path: '_history', allowed: ['system/*.s', 200], denied: 'system/Patient.rs system/Observation.rs' },
  { name: 'search', method: 'GET', path: 'Patient?name=Rivera', allowed: ['system/Patient.s', 200], denied: 'system/Patient.r' },
  { name: 'search by POST', method: 'POST', path: 'Patient/_search', allowed: ['system/Patient.s', 200], denied: 'system/Patient.r', body: 'name=Rivera', headers: { 'content-type': 'application/x-www-form-urlencoded' } },
  { name: '_summary=count', method: 'GET', path: 'Patient?_summary=count', allowed: ['system/Patient.s', 200], denied: 'system/Observation.rs' },
  { name: 'system search', method: 'GET', path: '?_type=Patient,Observation', allowed: ['system/Patient.s system/Observation.s', 200], denied: 'system/Patient.s' },
  { name: 'compartment search', method: 'GET', path: 'Patient/p1/Observation', allowed: ['system/Observation.s', 200], denied: 'system/Patient.rs' },
  { name: '_has through a type not allowed', method: 'GET', path: 'Patient?_has:Observation:subject:code=41909-3', allowed: ['system/Patient.s system/Observation.s', 200], denied: 'system/Patient.rs' },
  { name: 'a chain through a type not allowed', method: 'GET', path: 'Observation?subject:Patient.name=Rivera', allowed: ['system/Observation.s system/Patient.s', 200], denied: 'system/Observation.rs' },
  { name: 'create', method: 'POST', path: 'Patient', body: claimLike, allowed: ['system/Patient.c', 201], denied: 'system/Patient.rus' },
  { name: 'conditional create', method: 'POST', path: 'Patient', body: claimLike, headers: { 'if-none-exist': '_id=p1' }, allowed: ['system/Patient.cs', 200], denied: 'system/Patient.c' },
  { name: 'update', method: 'PUT', path: 'Patient/p1', body: patient, allowed: ['system/Patient.u', 200], denied: 'system/Patient.crs' },
  { name: 'conditional update', method: 'PUT', path: 'Patient?_id=p2', body: { resourceType: 'Patient', name: [{ family: 'Rivera' }] }, allowed: ['system/Patient.us', 200], denied: 'system/Patient.u' },
  { name: 'patch', method: 'PATCH', path: 'Patient/p2', body: jsonPatch, headers: { 'content-type': 'application/json-patch+json' }, allowed: ['system/Patient.u', 200], denied: 'system/Patient.crs' },
  { name: 'delete', method: 'DELETE', path: 'Patient/p3', allowed: ['system/Patient.d', 204], denied: 'system/Patient.cru' },
  { name: 'conditional delete', method: 'DELETE', path: 'Patient?name=Nobody', allowed: ['system/Patient.ds', 204], denied: 'system/Patient.d' },
  { name: '$validate (type)', method: 'POST', path: 'Patient/$validate', body: claimLike, allowed: ['system/Patient.c', 200], denied: 'system/Patient.rs' },
  { name: '$validate (instance)', method: 'GET', path: 'Patient/p1/$validate', allowed: ['system/Patient.r', 200], denied: 'system/Patient.s' },
  { name: '$run-bots', method: 'POST', path: 'Patient/p1/$run-bots', denied: 'system/Patient.rs' },
  { name: '$submit', method: 'POST', path: 'Claim/$submit', body: { resourceType: 'Parameters' }, denied: 'system/Claim.rs' },
  { name: '$timeline', method: 'GET', path: 'Claim/c1/$timeline', allowed: ['system/Claim.r', 404], denied: 'system/Claim.s' },
  { name: '$process-x12', method: 'POST', path: '$process-x12', body: 'ISA*', headers: { 'content-type': 'application/edi-x12' }, denied: 'system/Claim.cruds system/ClaimResponse.cruds' },
  { name: '$export', method: 'GET', path: '$export', headers: { accept: 'application/fhir+json', prefer: 'respond-async' }, allowed: ['system/*.rs', 202], denied: 'system/Patient.rs' },
  { name: '$export of one type', method: 'GET', path: '$export?_type=Patient', headers: { accept: 'application/fhir+json', prefer: 'respond-async' }, allowed: ['system/Patient.rs', 202], denied: 'system/Observation.rs' },
  { name: 'Patient/$export', method: 'GET', path: 'Patient/$export', headers: { accept: 'application/fhir+json', prefer: 'respond-async' }, denied: 'system/Patient.rs' },
  { name: '$outcomes', method: 'GET', path: '$outcomes', denied: 'system/Patient.rs' },
  { name: 'Patient/[id]/$outcomes', method: 'GET', path: 'Patient/p1/$outcomes', denied: 'system/Patient.r' },
  { name: 'Claim/[id]/$balance', method: 'GET', path: 'Claim/c1/$balance', allowed: ['system/Claim.rs', 404], denied: 'system/Claim.r' },
  { name: 'Patient/[id]/$balance', method: 'GET', path: 'Patient/p1/$balance', allowed: ['system/Patient.r system/Claim.s', 200], denied: 'system/Patient.r' },
  { name: 'Claim/$aging', method: 'GET', path: 'Claim/$aging', allowed: ['system/Claim.rs system/Patient.rs', 200], denied: 'system/Claim.rs' },
  { name: 'Patient/[id]/$invoice', method: 'POST', path: 'Patient/p1/$invoice', body: { resourceType: 'Parameters' }, denied: 'system/Patient.r system/Claim.rs' },
  { name: 'Invoice/[id]/$pay', method: 'POST', path: 'Invoice/i1/$pay', body: { resourceType: 'Parameters' }, denied: 'system/Invoice.r' },
  { name: 'Invoice/[id]/$statement', method: 'GET', path: 'Invoice/i1/$statement', allowed: ['system/Invoice.r', 404], denied: 'system/Invoice.s' },
  { name: 'ViewDefinition/$run', method: 'POST', path: 'ViewDefinition/$run', body: { resourceType: 'Parameters' }, denied: 'system/Patient.rs system/ViewDefinition.cruds' },
];

describeEachEngine('scopes on every interaction', (engine) => {
  let s: TestServer;
  let admin: string;
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    admin = await tokenFor(s, 'system/*.cruds');
    for (const r of [patient, { ...patient, id: 'p2' }, { ...patient, id: 'p3', name: [{ family: 'Gone' }] }, observation]) {
      expect((await fhir(s.baseUrl, 'PUT', `${r.resourceType}/${r.id}`, r, bearer(admin))).status).toBe(201);
    }
  });
  afterAll(async () => s?.close());

  for (const c of CASES) {
    describe(c.name, () => {
      it(`is refused with 403 and an OperationOutcome without the scope (${c.denied})`, async () => {
        const r = await fhir(s.baseUrl, c.method, c.path, c.body, { ...bearer(await tokenFor(s, c.denied)), ...c.headers });
        expect(r.status).toBe(403);
        expect(r.body.resourceType).toBe('OperationOutcome');
        expect(r.body.issue[0].code).toBe('forbidden');
        expect(r.text).not.toMatch(/Rivera|p1|o1/);
      });
      if (c.allowed) {
        it(`is served with ${c.allowed[0]}`, async () => {
          const r = await fhir(s.baseUrl, c.method, c.path, c.body, { ...bearer(await tokenFor(s, c.allowed![0])), ...c.headers });
          expect(r.status, r.text).toBe(c.allowed![1]);
        });
      }
    });
  }

  it('_include and _revinclude add only resources of the types the token may read', async () => {
    const observationsOnly = await tokenFor(s, 'system/Observation.rs');
    const inc = await fhir(s.baseUrl, 'GET', 'Observation?_include=Observation:subject', undefined, bearer(observationsOnly));
    expect(inc.status).toBe(200);
    expect(inc.body.entry.map((e: any) => e.resource.resourceType)).toEqual(['Observation']);
    const patientsOnly = await tokenFor(s, 'system/Patient.rs');
    const rev = await fhir(s.baseUrl, 'GET', 'Patient?_id=p1&_revinclude=Observation:subject', undefined, bearer(patientsOnly));
    expect(rev.body.entry.map((e: any) => e.resource.resourceType)).toEqual(['Patient']);
    const both = await tokenFor(s, 'system/Patient.rs system/Observation.rs');
    const all = await fhir(s.baseUrl, 'GET', 'Patient?_id=p1&_revinclude=Observation:subject', undefined, bearer(both));
    expect(all.body.entry.map((e: any) => e.resource.resourceType).sort()).toEqual(['Observation', 'Patient']);
  });

  it('checks each entry of a batch on its own', async () => {
    const token = await tokenFor(s, 'system/Patient.r');
    const r = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'batch', entry: [{ request: { method: 'GET', url: 'Patient/p1' } }, { request: { method: 'GET', url: 'Observation/o1' } }, { request: { method: 'GET', url: 'Observation/nope' } }] }, bearer(token));
    expect(r.status).toBe(200);
    expect(r.body.entry.map((e: any) => e.response.status.slice(0, 3))).toEqual(['200', '403', '403']);
    expect(JSON.stringify(r.body.entry[1])).not.toContain('41909-3');
  });

  it('refuses a whole transaction when one entry is out of scope, and writes nothing', async () => {
    const token = await tokenFor(s, 'system/Patient.cu');
    const r = await fhir(s.baseUrl, 'POST', '', {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:1', resource: { resourceType: 'Patient', name: [{ family: 'Tx' }] }, request: { method: 'POST', url: 'Patient' } },
        { resource: { ...observation, id: undefined, subject: { reference: 'urn:uuid:1' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    }, bearer(token));
    expect(r.status).toBe(403);
    const found = await fhir(s.baseUrl, 'GET', 'Patient?name=Tx&_summary=count', undefined, bearer(admin));
    expect(found.body.total).toBe(0);
  });

  it('a client that may kick off an export of a type may follow it', async () => {
    const token = await tokenFor(s, 'system/Patient.rs');
    const kickoff = await fhir(s.baseUrl, 'GET', '$export?_type=Patient', undefined, { ...bearer(token), accept: 'application/fhir+json', prefer: 'respond-async' });
    expect(kickoff.status).toBe(202);
    const status = await fetch(kickoff.headers.get('content-location')!, { headers: bearer(token) });
    expect([200, 202]).toContain(status.status);
    expect((await fetch(kickoff.headers.get('content-location')!)).status).toBe(401);
    const writer = await tokenFor(s, 'system/Patient.c');
    expect((await fetch(kickoff.headers.get('content-location')!, { headers: bearer(writer) })).status).toBe(403);
  });

  it("an export is its client's: to any other client, even one with every scope, it does not exist", async () => {
    const token = await tokenFor(s, 'system/Patient.rs');
    const kickoff = await fhir(s.baseUrl, 'GET', '$export?_type=Patient', undefined, { ...bearer(token), accept: 'application/fhir+json', prefer: 'respond-async' });
    const url = kickoff.headers.get('content-location')!;
    let manifest: any;
    for (let i = 0; i < 100 && !manifest; i++) {
      const r = await fetch(url, { headers: bearer(token) });
      if (r.status === 200) manifest = await r.json();
      else await new Promise((done) => setTimeout(done, 100));
    }
    const file = manifest.output[0].url as string;
    const other = bearer(await tokenFor(s, 'system/*.cruds'));
    const id = url.slice(url.lastIndexOf('/') + 1);
    const none = randomUUID();
    const answer = async (r: Response): Promise<[number, string]> => [r.status, (await r.text()).replaceAll(id, 'ID').replaceAll(none, 'ID')];
    const unknown = await answer(await fetch(url.replace(id, none), { headers: other }));
    expect(unknown[0]).toBe(404);
    expect(await answer(await fetch(url, { headers: other }))).toEqual(unknown);
    expect(await answer(await fetch(url, { method: 'DELETE', headers: other }))).toEqual(await answer(await fetch(url.replace(id, none), { method: 'DELETE', headers: other })));
    expect((await fetch(file, { headers: other })).status).toBe(404);
    // The client that started it still has all of it.
    expect((await fetch(file, { headers: bearer(token) })).status).toBe(200);
    expect((await fetch(url, { headers: bearer(token) })).status).toBe(200);
  });

  it('never lets anyone change an AuditEvent, whatever the scopes', async () => {
    const r = await fhir(s.baseUrl, 'POST', 'AuditEvent', { resourceType: 'AuditEvent' }, bearer(admin));
    expect(r.status).toBe(403);
    expect((await fhir(s.baseUrl, 'DELETE', 'AuditEvent/x', undefined, bearer(admin))).status).toBe(403);
  });
});
