/**
 * The README's first request (issue 25 item 7): the guide's example session posted as a transaction, its Claim read
 * back; posted twice, the shared resources (patient, therapists, roles, clinic, payer, coverage) are not duplicated,
 * thanks to the example's ifNoneExist.
 */
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { storedCounts } from '../support/counts.js';
import { ROOT } from '../support/cli.js';

const EXAMPLE = fs.readFileSync(path.join(ROOT, 'profiles/examples/session-complete.json'), 'utf8');
const SHARED = ['Patient', 'Practitioner', 'PractitionerRole', 'Organization', 'Coverage'];

describeEachEngine('the README first request', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('posting the example session makes a Claim; posting it again duplicates none of the shared resources', async () => {
    const first = await fhir(s.baseUrl, 'POST', '', EXAMPLE, { 'content-type': 'application/fhir+json' });
    expect(first.status, first.text.slice(0, 500)).toBe(200);
    const patient = first.body.entry[0].response.location.split('/_history')[0];
    const claims = await fhir(s.baseUrl, 'GET', `Claim?${new URLSearchParams({ patient })}`);
    expect(claims.body.total).toBe(1);
    expect(claims.body.entry[0].resource.item.map((i: any) => i.productOrService.coding[0].code).sort()).toEqual(['97110', '97116', '97530']);
    const counts = await storedCounts(s.stride.store);
    for (const type of SHARED) expect(counts[type], type).toBeGreaterThan(0);

    const second = await fhir(s.baseUrl, 'POST', '', EXAMPLE, { 'content-type': 'application/fhir+json' });
    expect(second.status, second.text.slice(0, 500)).toBe(200);
    const again = await storedCounts(s.stride.store);
    for (const type of SHARED) expect(again[type], type).toBe(counts[type]);
    // The shared entries answer 200 (matched) and name the resources the first posting created.
    const shared = (b: any) => b.entry.slice(0, 9).map((e: any) => e.response.location.split('/_history')[0]);
    expect(shared(second.body)).toEqual(shared(first.body));
    expect(second.body.entry.slice(0, 9).map((e: any) => e.response.status)).toEqual(Array(9).fill('200 OK'));
    // The session itself is new: a second Encounter.
    expect(again.Encounter).toBe(counts.Encounter + 1);
  });

  it('a Claim a client posts comes back with its version; the claim scrubber stores a newer one, which a read shows', async () => {
    const claim = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/claim-session-complete.json'), 'utf8'));
    const posted = await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry: [...JSON.parse(EXAMPLE).entry, { fullUrl: 'urn:uuid:5a0c1b2e-0000-4000-8000-000000000001', resource: { ...claim, id: undefined }, request: { method: 'POST', url: 'Claim' } }] });
    expect(posted.status, posted.text.slice(0, 500)).toBe(200);
    const entry = posted.body.entry[posted.body.entry.length - 1].response;
    const key = entry.location.split('/_history')[0];
    const read = await fhir(s.baseUrl, 'GET', key);
    // What the README says: the answer's ETag is the version the client wrote; the stored one is that or newer.
    expect(entry.etag).toBe('W/"1"');
    expect(Number(read.body.meta.versionId)).toBeGreaterThan(1);
    expect(read.headers.get('etag')).toBe(`W/"${read.body.meta.versionId}"`);
  });
});
