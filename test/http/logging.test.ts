/**
 * Logs (issue 2 item 8): one pino JSON line per request with id, method, path, status and duration; an unexpected
 * fault is a 500 OperationOutcome naming the request id, logged with the error under that id (item 7).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import net from 'node:net';
import { Writable } from 'node:stream';
import pino from 'pino';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

interface LogLine {
  level: number;
  msg: string;
  reqId?: string;
  [key: string]: any;
}

/** A pino logger whose JSON lines land in `lines`, parsed. */
function capturingLogger(lines: LogLine[]) {
  const sink = new Writable({
    write(chunk, _encoding, done) {
      for (const text of String(chunk).split('\n').filter(Boolean)) lines.push(JSON.parse(text));
      done();
    },
  });
  return pino({ level: 'info' }, sink);
}

/** Replaces `target[method]` with one that throws, for the duration of `work`: a fault no client input can cause. */
async function withFault<T extends object>(target: T, method: keyof T & string, work: () => Promise<void>): Promise<void> {
  const original = target[method];
  (target as Record<string, unknown>)[method] = async () => {
    throw new Error('disk on fire');
  };
  try {
    await work();
  } finally {
    (target as Record<string, unknown>)[method] = original;
  }
}

/** The log is written after the response: wait (bounded) for the line to appear. */
async function lineFor(lines: LogLine[], match: (l: LogLine) => boolean): Promise<LogLine | undefined> {
  for (let i = 0; i < 100 && !lines.some(match); i++) await new Promise((r) => setTimeout(r, 20));
  return lines.find(match);
}

describeEachEngine('logging and unexpected faults', (engine) => {
  const lines: LogLine[] = [];
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, {}, capturingLogger(lines));
  });
  afterAll(async () => s?.close());

  it('logs one JSON line per request with id, method, path, status and duration', async () => {
    await fhir(s.baseUrl, 'GET', 'Patient/nobody', undefined, { 'x-request-id': 'log-read' });
    await fhir(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient' }, { 'x-request-id': 'log-create' });
    const read = await lineFor(lines, (l) => l.reqId === 'log-read');
    expect(read).toMatchObject({ level: 30, msg: 'request', method: 'GET', path: '/fhir/Patient/nobody', status: 404 });
    expect(read!.durationMs).toBeGreaterThanOrEqual(0);
    const create = await lineFor(lines, (l) => l.reqId === 'log-create');
    expect(create).toMatchObject({ method: 'POST', path: '/fhir/Patient', status: 201 });
    expect(lines.filter((l) => l.reqId === 'log-read')).toHaveLength(1);
  });

  it('gives each request an id of its own when the client sends none (or an unusable one)', async () => {
    const a = await fhir(s.baseUrl, 'GET', 'metadata');
    const b = await fhir(s.baseUrl, 'GET', 'metadata', undefined, { 'x-request-id': 'bad id with spaces' });
    const idA = a.headers.get('x-request-id')!;
    const idB = b.headers.get('x-request-id')!;
    expect(idA).toMatch(/^[0-9a-f-]{36}$/);
    expect(idB).toMatch(/^[0-9a-f-]{36}$/);
    expect(idA).not.toBe(idB);
    expect(await lineFor(lines, (l) => l.reqId === idB)).toMatchObject({ path: '/fhir/metadata', status: 200 });
  });

  it('logs the names of query parameters, never their values (search values are patient data)', async () => {
    await fhir(s.baseUrl, 'GET', 'Patient?family=Okafor&birthdate=1950-04-01', undefined, { 'x-request-id': 'log-search' });
    const line = await lineFor(lines, (l) => l.reqId === 'log-search');
    expect(line).toMatchObject({ path: '/fhir/Patient', params: ['family', 'birthdate'], status: 200 });
    expect(JSON.stringify(line)).not.toMatch(/Okafor|1950/);
  });

  it('logs a request whose client went away before the answer', async () => {
    const { port } = new URL(s.baseUrl);
    await new Promise<void>((resolve, reject) => {
      const socket = net.connect(Number(port), '127.0.0.1', () => {
        socket.write('POST /fhir/Patient HTTP/1.1\r\nHost: x\r\nX-Request-Id: log-abort\r\nContent-Type: application/fhir+json\r\nContent-Length: 5000\r\n\r\n{"resourceType":');
        setTimeout(() => {
          socket.destroy();
          resolve();
        }, 50);
      });
      socket.on('error', reject);
    });
    const line = await lineFor(lines, (l) => l.reqId === 'log-abort');
    expect(line).toMatchObject({ method: 'POST', path: '/fhir/Patient', aborted: true });
  });

  it('a fault in the search is a 500 OperationOutcome naming the request id; the log has the error under that id', async () => {
    await withFault(s.stride.repo.deps.searcher, 'search', async () => {
      const r = await fhir(s.baseUrl, 'GET', 'Patient?name=x', undefined, { 'x-request-id': 'fault-search' });
      expect(r.status).toBe(500);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.body.issue[0]).toMatchObject({ severity: 'fatal', code: 'exception' });
      expect(r.body.issue[0].details.text).toContain('request id fault-search');
      expect(r.text).not.toContain('disk on fire');
    });
    const error = await lineFor(lines, (l) => l.reqId === 'fault-search' && l.level === 50);
    expect(error!.err.message).toBe('disk on fire');
    expect(error!.err.stack).toContain('disk on fire');
    expect(await lineFor(lines, (l) => l.reqId === 'fault-search' && l.msg === 'request')).toMatchObject({ status: 500 });
  });

  it('a fault in the storage reader during a read is a 500 too, and the server serves again after it', async () => {
    await fhir(s.baseUrl, 'PUT', 'Patient/steady', { resourceType: 'Patient', id: 'steady' });
    await withFault(s.stride.store.reader, 'get', async () => {
      const r = await fhir(s.baseUrl, 'GET', 'Patient/steady', undefined, { 'x-request-id': 'fault-read' });
      expect(r.status).toBe(500);
      expect(r.body.issue[0].details.text).toContain('fault-read');
    });
    expect((await lineFor(lines, (l) => l.reqId === 'fault-read' && l.level === 50))!.err.message).toBe('disk on fire');
    expect((await fhir(s.baseUrl, 'GET', 'Patient/steady')).status).toBe(200);
  });
});
