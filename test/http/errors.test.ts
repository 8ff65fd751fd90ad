/** Every failure is an OperationOutcome with the status R4 gives; client input never gets a 5xx. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import pino from 'pino';
import { Writable } from 'node:stream';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

function expectOutcome(r: { status: number; body: any }, status: number, text?: RegExp): void {
  expect(r.status).toBe(status);
  expect(r.body?.resourceType).toBe('OperationOutcome');
  expect(r.body.issue[0].severity).toMatch(/error|fatal/);
  if (text) expect(r.body.issue.map((i: any) => i.details?.text).join(' ')).toMatch(text);
}

describeEachEngine('errors', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_BODY_LIMIT: '2000' });
  });
  afterAll(async () => s?.close());

  it('malformed JSON is 400 naming the problem', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '{"resourceType": "Patient",'), 400, /not valid JSON/);
  });

  it('a body that is not a resource is 400', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '[1,2]'), 400, /not a FHIR resource/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '"Patient"'), 400, /not a FHIR resource/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { name: [{ family: 'x' }] }), 400, /resourceType/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient'), 400, /no body/);
  });

  it('resourceType or id that does not match the URL is 400', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Observation' }), 400, /Observation.*Patient/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/a', { resourceType: 'Patient', id: 'b' }), 400, /does not match/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/a', { resourceType: 'Patient' }), 400, /no id/);
    expectOutcome(await fhir(s.baseUrl, 'PUT', 'Patient/a$b', { resourceType: 'Patient', id: 'a$b' }), 400, /not a valid resource id/);
  });

  it('an unknown resource type is 404', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patientt/1'), 404, /Unknown resource type "Patientt"/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'TherapySession', { resourceType: 'TherapySession' }), 404, /Unknown resource type/);
  });

  it('an unsupported media type is 415', async () => {
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', '<Patient/>', { 'content-type': 'application/fhir+xml' }), 415, /application\/fhir\+json/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', 'name=x', { 'content-type': 'text/plain' }), 415);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', 'name=x', { 'content-type': 'application/x-www-form-urlencoded' }), 415);
  });

  it('a body over the configured limit is 413', async () => {
    const big = { resourceType: 'Patient', name: [{ family: 'x'.repeat(5000) }] };
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient', big), 413, /limit of 2000 bytes/);
  });

  it('an unknown route is 404 and a wrong method 405', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/1/foo/bar'), 404, /No FHIR endpoint/);
    expectOutcome(await fhir(s.baseUrl.replace('/fhir', '/nothing'), 'GET', ''), 404, /FHIR base is \/fhir/);
    expectOutcome(await fhir(s.baseUrl, 'DELETE', 'metadata'), 405, /DELETE is not allowed/);
    expectOutcome(await fhir(s.baseUrl, 'POST', 'Patient/1', { resourceType: 'Patient' }), 405);
  });

  it('bad paging parameters are 400 naming the parameter', async () => {
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/_history?_count=lots'), 400, /_count/);
    expectOutcome(await fhir(s.baseUrl, 'GET', 'Patient/_history?_since=yesterday'), 400, /_since/);
  });

  it('random junk never produces a 5xx', async () => {
    const methods = fc.constantFrom('GET', 'POST', 'PUT', 'PATCH', 'DELETE');
    const segment = fc.oneof(fc.constantFrom('Patient', 'Observation', '_history', '_search', '$validate', 'metadata', '1', '_history/2', '%ZZ', '..'), fc.string({ maxLength: 8 }));
    const body = fc.oneof(fc.constant(undefined), fc.json(), fc.string({ maxLength: 50 }), fc.constant('{"resourceType":"Patient","id":5}'));
    const header = fc.record({ 'if-match': fc.string({ maxLength: 6 }), prefer: fc.string({ maxLength: 12 }), 'content-type': fc.constantFrom('application/fhir+json', 'text/plain', 'application/json-patch+json', '') });
    await fc.assert(
      fc.asyncProperty(methods, fc.array(segment, { maxLength: 3 }), body, header, async (method, segs, b, h) => {
        const path = segs.map((x) => encodeURIComponent(x).replace(/%25ZZ/, '%ZZ')).join('/');
        const headers = Object.fromEntries(Object.entries(h).filter(([, v]) => v !== ''));
        const r = await fhir(s.baseUrl, method, path, method === 'GET' || method === 'DELETE' ? undefined : b, headers);
        expect(r.status).toBeLessThan(500);
        if (r.status >= 400) expect(r.body?.resourceType).toBe('OperationOutcome');
      }),
      { numRuns: 150 },
    );
  });
});

describeEachEngine('unexpected faults', (engine) => {
  const lines: any[] = [];
  const logger = pino({ level: 'info' }, new Writable({ write(chunk, _e, cb) { lines.push(JSON.parse(String(chunk))); cb(); } }));
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, {}, logger);
  });
  afterAll(async () => s?.close());

  it('a server fault is a 500 OperationOutcome naming the request id, and the log has the error under that id', async () => {
    const search = s.stride.repo.deps.searcher.search;
    s.stride.repo.deps.searcher.search = async () => {
      throw new Error('disk on fire');
    };
    try {
      const r = await fhir(s.baseUrl, 'GET', 'Patient?name=x', undefined, { 'x-request-id': 'fault-1' });
      expect(r.status).toBe(500);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0].details.text).toContain('fault-1');
      expect(r.body.issue[0].details.text).not.toContain('disk on fire');
      const logged = lines.find((l) => l.requestId === 'fault-1' && l.err);
      expect(logged.err.message).toBe('disk on fire');
    } finally {
      s.stride.repo.deps.searcher.search = search;
    }
  });

  it('logs one JSON line per request with id, method, path, status and duration', async () => {
    await fhir(s.baseUrl, 'GET', 'Patient/nobody', undefined, { 'x-request-id': 'log-1' });
    const line = lines.find((l) => l.reqId === 'log-1');
    expect(line).toMatchObject({ method: 'GET', path: '/fhir/Patient/nobody', status: 404, msg: 'request' });
    expect(typeof line.durationMs).toBe('number');
  });
});
