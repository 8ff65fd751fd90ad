/** Every failure is an OperationOutcome with the status R4 gives (issue 2 item 7); client input never gets a 5xx. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import { gzipSync } from 'node:zlib';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { MAX_JSON_DEPTH } from '../../src/http/request.js';

function expectOutcome(r: { status: number; body: any }, status: number, text?: RegExp): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.body?.resourceType).toBe('OperationOutcome');
  expect(r.body.id).toBeUndefined();
  expect(r.body.issue[0].severity).toMatch(/error|fatal/);
  if (text) expect(r.body.issue.map((i: any) => i.details?.text).join(' ')).toMatch(text);
}

/** Extensions nested `levels` deep: valid FHIR, each level two JSON levels (object and array). */
function nestedExtensions(levels: number): object {
  let ext: object = { url: 'https://acme-rehab.com/fhir/ext/leaf', valueString: 'x' };
  for (let i = 0; i < levels; i++) ext = { url: `https://acme-rehab.com/fhir/ext/level-${i}`, extension: [ext] };
  return { resourceType: 'Basic', code: { text: 'deep' }, extension: [ext] };
}

describeEachEngine('errors', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BODY_LIMIT: '1000' });
  });
  afterAll(async () => s?.close());

  it('malformed JSON is 400 naming the problem', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '{"resourceType": "Patient",'), 400, /not valid JSON/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/x', "{'resourceType': 'Patient'}"), 400, /not valid JSON/);
  });

  it('a body that is not a resource is 400', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '[1,2]'), 400, /not a FHIR resource/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '"Patient"'), 400, /not a FHIR resource/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', 'null'), 400, /no body/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { name: [{ family: 'x' }] }), 400, /"resourceType" is missing/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 5 }), 400, /must name a type, e\.g\. "Patient", not 5/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient'), 400, /no body/);
  });

  it('resourceType or id that does not match the URL is 400', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Observation' }), 400, /body is a Observation but the URL is for Patient/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/a', { resourceType: 'Patient', id: 'b' }), 400, /"b" does not match the URL's id "a"/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/a', { resourceType: 'Patient' }), 400, /no id/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/5', { resourceType: 'Patient', id: 5 }), 400, /Patient\.id must be a JSON string/);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/a')).status).toBe(404);
  });

  it('an unknown resource type is 404', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patientt/1'), 404, /Unknown resource type "Patientt"/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'TherapySession', { resourceType: 'TherapySession' }), 404, /Unknown resource type "TherapySession"/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'TherapySession/_history'), 404, /Unknown resource type/);
  });

  it('an unsupported media type is 415 and says what to send', async () => {
    const patient = '{"resourceType":"Patient"}';
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '<Patient/>', { 'content-type': 'application/fhir+xml' }), 415, /send application\/fhir\+json/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '<Patient/>', { 'content-type': 'application/xml' }), 415, /application\/xml is not accepted/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', patient, { 'content-type': 'text/plain' }), 415, /text\/plain/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415, /only taken by POST \[type\]\/_search/);
    expect((await fhir(s.baseUrl, 'POST', 'Patient', patient, { 'content-type': 'application/json; charset=utf-8' })).status).toBe(201);
  });

  it('a body over the configured limit is 413 and stores nothing', async () => {
    const big = { resourceType: 'Patient', name: [{ family: 'Oversize', given: ['x'.repeat(2000)] }] };
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', big), 413, /larger than this server's limit of 1000 bytes/);
    expect((await fhir(s.baseUrl, 'GET', 'Patient?family=Oversize')).body.total).toBe(0);
  });

  it('a body that cannot be read (bad gzip, unknown encoding) is a 4xx, never a URL complaint', async () => {
    const bad = await fhir(s.baseUrl, 'POST', 'Patient', 'not gzip at all', { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' });
    expectOutcome(bad, 400, /body could not be read/);
    const unknown = await fhir(s.baseUrl, 'POST', 'Patient', '{"resourceType":"Patient"}', { 'content-type': 'application/fhir+json', 'content-encoding': 'zip7' });
    expectOutcome(unknown, 415, /encoding/);
    const res = await fetch(`${s.baseUrl}/Patient`, { method: 'POST', headers: { 'content-type': 'application/fhir+json', 'content-encoding': 'gzip' }, body: gzipSync('{"resourceType":"Patient"}') });
    expect(res.status).toBe(201);
  });

  it(`JSON nested deeper than ${MAX_JSON_DEPTH} levels is 400; a deep but reasonable resource is stored`, async () => {
    const deep = `{"resourceType":"Basic","code":{"text":"x"},"extension":${'['.repeat(5000)}${']'.repeat(5000)}}`;
    const limitless = await startTestServer(engine);
    try {
      expectOutcome(await fhir(limitless.baseUrl, 'POST', 'Basic', deep), 400, new RegExp(`more than ${MAX_JSON_DEPTH} levels deep`));
      expectOutcome(await fhir(limitless.baseUrl, 'POST', 'Basic', nestedExtensions(60)), 400, /levels deep/);
      const ok = await fhir(limitless.baseUrl, 'POST', 'Basic', nestedExtensions(40));
      expect(ok.status, JSON.stringify(ok.body)).toBe(201);
    } finally {
      await limitless.close();
    }
  });

  it('an unknown route is 404 and a method the route lacks is 405', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/1/foo/bar'), 404, /No FHIR endpoint at \/Patient\/1\/foo\/bar/);
    expectOutcome(await fhir(s.baseUrl.replace('/fhir', '/nothing'), 'GET', ''), 404, /FHIR base is \/fhir/);
    expectOutcome(await fhir(s.baseUrl, 'DELETE', 'metadata'), 405, /DELETE is not allowed on \/metadata/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient/1', { resourceType: 'Patient' }), 405, /POST is not allowed/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', '_history', { resourceType: 'Patient' }), 405);
  });

  it('a 405 says in Allow (and in words) which methods the path takes', async () => {
    const metadata = await fhir(s.baseUrl, 'DELETE', 'metadata');
    expect(metadata.headers.get('allow')).toBe('GET, HEAD');
    expectOutcome(metadata, 405, /it takes GET, HEAD/);
    const instance = await fhir(s.baseUrl, 'POST', 'Patient/1', { resourceType: 'Patient' });
    expect(instance.headers.get('allow')).toBe('DELETE, GET, HEAD, PATCH, PUT');
  });

  it('a URL that is not valid percent-encoding is 400', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/%E0%A4%A'), 400, /not valid/);
  });

  it('bad paging parameters are 400 naming the parameter', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/_history?_count=lots'), 400, /_count/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/_history?_since=yesterday'), 400, /_since/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/_history?_snapshot=NaN'), 400, /_snapshot must be a whole number/);
    expectOutcome(await fhir(s.baseUrl, 'GET', '_history?_at=2026'), 400, /_at is not supported/);
  });

  it('a NUL character (%00) in a search value, an id or a batch entry is a 4xx naming it (PostgreSQL refuses NUL)', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient?name=a%00b'), 400, /NUL character/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient?_id=%00'), 400, /NUL character/);
    expectOutcome(await fhir(s.baseUrl, 'GET', '?_type=Patient&a%00=1'), 400, /NUL character/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient?_cursor=%00'), 400, /NUL character/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/a%00b'), 404);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/a%00b/_history/1'), 404);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' }, { 'If-None-Exist': 'name=a%00b' }), 400, /NUL character/);
    const batch = await fhir(s.baseUrl, 'POST', '', {
      resourceType: 'Bundle',
      type: 'batch',
      entry: [{ request: { method: 'GET', url: 'Patient?name=a%00' } }, { request: { method: 'GET', url: 'Patient/a%00' } }, { request: { method: 'DELETE', url: 'Patient?name=%00' } }],
    });
    expect(batch.status).toBe(200);
    expect(batch.body.entry.map((e: any) => e.response.status)).toEqual(['400', '404', '400']);
  });

  it('random junk (methods, paths, parameters, headers, bodies) never produces a 5xx', async () => {
    await fc.assert(
      fc.asyncProperty(junkRequest(), async ({ method, path, body, headers }) => {
        const r = await fhir(s.baseUrl, method, path, method === 'GET' || method === 'HEAD' ? undefined : body, headers);
        expect(r.status, `${method} ${path} ${JSON.stringify(headers)} ${body}`).toBeLessThan(500);
        if (r.status >= 400 && method !== 'HEAD') expect(r.body?.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 200 },
    );
  });
});

function junkRequest() {
  const segment = fc.oneof(
    fc.constantFrom('Patient', 'Observation', 'Bundle', '_history', '_search', '$validate', 'metadata', '1', '_history/2', '%ZZ', '..', '%2F'),
    fc.string({ maxLength: 8 }).map(encodeURIComponent),
  );
  const name = fc.constantFrom('_count', '_offset', '_since', '_snapshot', '_summary', '_elements', '_format', '_pretty', '_sort', '_id', 'name', 'identifier', '_include', 'bogus', '_total');
  const value = fc.oneof(fc.constantFrom('', '0', '-1', 'abc', 'true', 'count', 'xml', '2020', 'ge2020-01-01', 'NaN', '1e5', '99999999999999999999', '*', 'a|b', 'a\u0000b'), fc.string({ maxLength: 10 }));
  const query = fc.array(fc.tuple(name, value), { maxLength: 3 }).map((q) => q.map(([k, v]) => `${k}=${encodeURIComponent(v)}`).join('&'));
  const body = fc.oneof(
    fc.constant(undefined),
    fc.json({ maxDepth: 3 }),
    fc.string({ maxLength: 40 }),
    fc.constantFrom(
      '{"resourceType":"Patient","id":5}',
      '{"resourceType":"Patient"}',
      '[{"op":"add","path":"/active","value":true}]',
      'null',
      '{}',
      // Shapes that once reached the validator's own rules or the search index and crashed them (found by fuzzing).
      '{"resourceType":"Bundle","type":"batch","entry":[{},null,1]}',
      '{"resourceType":"Patient","meta":{"profile":[null]}}',
      '{"resourceType":"Observation","status":"final","code":{"coding":[{"system":"http://loinc.org","code":{}}]}}',
      '{"resourceType":"Patient","name":[1],"gender":{}}',
    ),
  );
  const token = (samples: string[]) => fc.oneof(fc.constantFrom(...samples), fc.stringMatching(/^[\x20-\x7e]{0,8}$/));
  const headers = fc.record(
    {
      'if-match': token(['W/"1"', '*', '"2"']),
      'if-none-match': token(['W/"1"', '*']),
      'if-none-exist': token(['identifier=a|b', '_id=1', 'bogus=1']),
      'if-modified-since': token(['Mon, 01 Jan 2001 00:00:00 GMT']),
      prefer: token(['return=minimal', 'return=OperationOutcome', 'handling=strict']),
      accept: fc.constantFrom('application/fhir+json', 'application/xml', '*/*', 'text/plain'),
      'content-type': fc.constantFrom('application/fhir+json', 'text/plain', 'application/json-patch+json', 'application/x-www-form-urlencoded'),
    },
    { requiredKeys: [] },
  );
  return fc.record({
    method: fc.constantFrom('GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'),
    path: fc.tuple(fc.array(segment, { maxLength: 3 }), query).map(([segs, q]) => segs.join('/') + (q ? `?${q}` : '')),
    body,
    headers: headers.map((h) => Object.fromEntries(Object.entries(h).filter(([, v]) => v !== '' && v.trim() === v)) as Record<string, string>),
  });
}
