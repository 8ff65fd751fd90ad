/** A small closed-loop HTTP load generator: N keep-alive connections, each sending its next request on reply. */
import http from 'node:http';

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
}

export async function runLoad(options: LoadOptions): Promise<LoadResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: options.concurrency });
  const url = new URL(options.url);
  const latencies: number[] = [];
  let requests = 0;
  let errors = 0;
  let i = 0;
  const start = performance.now();
  const deadline = start + options.durationMs;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const body = typeof options.body === 'function' ? options.body(i++) : options.body;
      const t0 = performance.now();
      const req = http.request({ agent, hostname: url.hostname, port: url.port, path: url.pathname + url.search, method: options.method ?? 'GET', headers: { ...options.headers, ...(body ? { 'content-length': Buffer.byteLength(body) } : {}) } }, (res) => {
        res.on('data', () => undefined);
        res.on('end', () => {
          latencies.push(performance.now() - t0);
          requests++;
          if (res.statusCode !== (options.status ?? 200)) errors++;
          resolve();
        });
      });
      req.on('error', () => {
        errors++;
        resolve();
      });
      req.end(body);
    });
  const worker = async (): Promise<void> => {
    while (performance.now() < deadline) await one();
  };
  await Promise.all(Array.from({ length: options.concurrency }, worker));
  const seconds = (performance.now() - start) / 1000;
  agent.destroy();
  return { requests, errors, seconds, perSecond: requests / seconds, latenciesMs: latencies };
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))];
}
