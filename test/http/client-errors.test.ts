/**
 * Errors raised before the app sees the request (Node's clientError; issue 25 item 4), sent over raw sockets: each
 * answered with its status and an OperationOutcome, the connection closed, the server still serving.
 */
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

/** Sends raw bytes, returns everything the server wrote until it closed the connection. */
function rawRequest(baseUrl: string, data: string): Promise<string> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const socket = net.connect(Number(port), hostname);
    const chunks: Buffer[] = [];
    socket.on('data', (c) => chunks.push(c));
    socket.on('error', (err) => (chunks.length ? resolve(Buffer.concat(chunks).toString('utf8')) : reject(err)));
    socket.on('close', () => resolve(Buffer.concat(chunks).toString('utf8')));
    socket.write(data, () => undefined);
  });
}

function parse(reply: string): { status: number; headers: string; body: any } {
  const [head, ...rest] = reply.split('\r\n\r\n');
  const status = Number(head.split(' ')[1]);
  let body: unknown;
  try {
    body = JSON.parse(rest.join('\r\n\r\n'));
  } catch {
    body = undefined;
  }
  return { status, headers: head.toLowerCase(), body };
}

describeEachEngine('errors before the app', (engine) => {
  let s: TestServer;
  let host: string;
  beforeAll(async () => {
    s = await startTestServer(engine);
    host = new URL(s.baseUrl).host;
  });
  afterAll(async () => s?.close());

  const cases: Array<[string, () => string, number, RegExp]> = [
    ['an unknown method', () => `FROB /fhir/Patient HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 501, /method/],
    ['a URL longer than the parser takes', () => `GET /fhir/Patient?name=${'a'.repeat(20_000)} HTTP/1.1\r\nHost: ${host}\r\n\r\n`, 414, /URL is longer/],
    ['one oversized header', () => `GET /fhir/metadata HTTP/1.1\r\nHost: ${host}\r\nX-Big: ${'b'.repeat(20_000)}\r\n\r\n`, 431, /header fields/],
    ['too many headers', () => `GET /fhir/metadata HTTP/1.1\r\nHost: ${host}\r\n${Array.from({ length: 3000 }, (_, i) => `X-H${i}: v`).join('\r\n')}\r\n\r\n`, 431, /header fields/],
    ['Content-Length with Transfer-Encoding', () => `POST /fhir/Patient HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/fhir+json\r\nContent-Length: 5\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n`, 400, /Content-Length and Transfer-Encoding/],
    ['a malformed chunk size', () => `POST /fhir/Patient HTTP/1.1\r\nHost: ${host}\r\nContent-Type: application/fhir+json\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n{}\r\n0\r\n\r\n`, 400, /not valid HTTP/],
    ['a request line that is not HTTP', () => `GET /fhir/metadata NOTHTTP/1.1\r\n\r\n`, 400, /not valid HTTP/],
    ['a header without a colon', () => `GET /fhir/metadata HTTP/1.1\r\nHost: ${host}\r\nnot a header\r\n\r\n`, 400, /not valid HTTP/],
  ];

  for (const [what, request, status, text] of cases) {
    it(`${what}: ${status} with an OperationOutcome, connection closed`, async () => {
      const reply = parse(await rawRequest(s.baseUrl, request()));
      expect(reply.status, JSON.stringify(reply)).toBe(status);
      expect(reply.headers).toContain('content-type: application/fhir+json');
      expect(reply.headers).toContain('connection: close');
      expect(reply.body.resourceType).toBe('OperationOutcome');
      expect(reply.body.issue[0].severity).toBe('error');
      expect(reply.body.issue[0].details.text).toMatch(text);
    });
  }

  it('the server still serves afterwards, and nothing was stored', async () => {
    const r = await fhir(s.baseUrl, 'GET', 'Patient');
    expect(r.status).toBe(200);
    expect(r.body.total).toBe(0);
  });
});
