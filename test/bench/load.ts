/**
 * A closed-loop HTTP/1.1 load generator on raw keep-alive sockets: N connections, each sending its next request as
 * soon as the previous reply is complete. Raw sockets rather than node:http's client because the client shares this
 * 2-core machine with the server: http.request costs several times the CPU per request of writing prepared bytes and
 * reading a status line and a Content-Length, and a heavy client would lower the ceiling it is meant to measure.
 */
import net from 'node:net';

export interface LoadOptions {
  url: string;
  method?: string;
  headers?: Record<string, string>;
  /** A fixed body, or a function giving the body of the i-th request. */
  body?: string | ((i: number) => string);
  concurrency: number;
  durationMs: number;
  /** Expected status; any other counts as an error. */
  status?: number;
}

export interface LoadResult {
  requests: number;
  errors: number;
  seconds: number;
  perSecond: number;
  latenciesMs: number[];
  /** Status -> count, for diagnosing errors. */
  statuses: Record<number, number>;
}

const HEAD_END = Buffer.from('\r\n\r\n');

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const url = new URL(options.url);
  const head = `${options.method ?? 'GET'} ${url.pathname}${url.search} HTTP/1.1\r\nHost: ${url.host}\r\nConnection: keep-alive\r\n${Object.entries(options.headers ?? {})
    .map(([k, v]) => `${k}: ${v}\r\n`)
    .join('')}`;
  const fixed = options.body === undefined ? Buffer.from(`${head}\r\n`) : typeof options.body === 'string' ? request(head, options.body) : undefined;
  const bodyOf = options.body;
  let i = 0;
  const next = (): Buffer => fixed ?? request(head, (bodyOf as (i: number) => string)(i++));
  const result: LoadResult = { requests: 0, errors: 0, seconds: 0, perSecond: 0, latenciesMs: [], statuses: {} };
  const start = performance.now();
  const deadline = start + options.durationMs;
  const expected = options.status ?? 200;
  await Promise.all(Array.from({ length: options.concurrency }, () => connection(url, next, deadline, expected, result)));
  result.seconds = (performance.now() - start) / 1000;
  result.perSecond = result.requests / result.seconds;
  return result;
}

function request(head: string, body: string): Buffer {
  return Buffer.from(`${head}Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
}

/** One keep-alive connection sending requests one after another until the deadline. */
function connection(url: URL, next: () => Buffer, deadline: number, expected: number, result: LoadResult): Promise<void> {
  return new Promise((resolve) => {
    const socket = net.connect(Number(url.port), url.hostname);
    socket.setNoDelay(true);
    let pending: Buffer = Buffer.alloc(0);
    let sentAt = 0;
    const send = (): void => {
      if (performance.now() >= deadline) {
        socket.end();
        return;
      }
      sentAt = performance.now();
      socket.write(next());
    };
    socket.on('connect', send);
    socket.on('data', (chunk: Buffer) => {
      pending = pending.length ? Buffer.concat([pending, chunk]) : chunk;
      for (;;) {
        const reply = parseReply(pending);
        if (!reply) return;
        pending = pending.subarray(reply.length);
        result.requests++;
        result.latenciesMs.push(performance.now() - sentAt);
        result.statuses[reply.status] = (result.statuses[reply.status] ?? 0) + 1;
        if (reply.status !== expected) result.errors++;
        send();
      }
    });
    socket.on('error', () => {
      result.errors++;
    });
    socket.on('close', () => resolve());
  });
}

/** The status and total length of the first complete reply in `buf`, or undefined while it is incomplete. */
function parseReply(buf: Buffer): { status: number; length: number } | undefined {
  const end = buf.indexOf(HEAD_END);
  if (end < 0) return undefined;
  const head = buf.toString('latin1', 0, end);
  const status = Number(head.slice(9, 12));
  const m = /\r\ncontent-length:\s*(\d+)/i.exec(head);
  if (!m && status !== 204 && status !== 304) throw new Error(`reply without Content-Length (status ${status}): the bench client reads only sized bodies`);
  const length = end + 4 + (m ? Number(m[1]) : 0);
  return buf.length >= length ? { status, length } : undefined;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
