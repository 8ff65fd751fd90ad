/**
 * A Bulk Data client written from the specification's flow alone (Bulk Data Access 2.0.0, export.html): kick-off with
 * `Prefer: respond-async`, poll the Content-Location (honouring Retry-After), read the manifest, download every file.
 * It knows nothing of Stride beyond the base URL: what it checks is what any conforming client relies on.
 */
import { expect } from 'vitest';

export interface KickoffOptions {
  method?: 'GET' | 'POST';
  /** Query string without `?`. */
  query?: string;
  /** A Parameters resource (POST). */
  body?: unknown;
  prefer?: string;
}

export interface Manifest {
  transactionTime: string;
  request: string;
  requiresAccessToken: boolean;
  output: Array<{ type: string; url: string; count?: number }>;
  deleted?: Array<{ type: string; url: string; count?: number }>;
  error: Array<{ type: string; url: string; count?: number }>;
}

export interface ExportResult {
  statusUrl: string;
  manifest: Manifest;
  /** X-Progress values seen while polling. */
  progress: string[];
  /** Each output file's lines, by url. */
  files: Map<string, string[]>;
}

/** Kick-off: 202 and an absolute Content-Location, or throws with the answer. */
export async function kickoff(baseUrl: string, path: string, options: KickoffOptions = {}): Promise<string> {
  const headers: Record<string, string> = { accept: 'application/fhir+json', prefer: options.prefer ?? 'respond-async' };
  if (options.body) headers['content-type'] = 'application/fhir+json';
  const res = await fetch(`${baseUrl}/${path}${options.query ? `?${options.query}` : ''}`, {
    method: options.method ?? (options.body ? 'POST' : 'GET'),
    headers,
    body: options.body ? JSON.stringify(options.body) : undefined,
  });
  const text = await res.text();
  expect(res.status, `kick-off ${path}?${options.query ?? ''}: ${text}`).toBe(202);
  const location = res.headers.get('content-location');
  expect(location, 'Content-Location').toMatch(/^https?:\/\//);
  return location as string;
}

/** Polls until the manifest (200) comes, honouring Retry-After scaled by `pace` (tests wait less than it asks). */
export async function poll(statusUrl: string, pace = 0.05, timeoutMs = 60_000): Promise<{ manifest: Manifest; progress: string[]; expires: string | null }> {
  const progress: string[] = [];
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const res = await fetch(statusUrl, { headers: { accept: 'application/json' } });
    const text = await res.text();
    if (res.status === 200) {
      expect(res.headers.get('content-type')).toMatch(/^application\/json/);
      return { manifest: JSON.parse(text) as Manifest, progress, expires: res.headers.get('expires') };
    }
    expect(res.status, `status: ${text}`).toBe(202);
    const x = res.headers.get('x-progress');
    if (x) {
      expect(x.length).toBeLessThan(100);
      progress.push(x);
    }
    const retryAfter = Number(res.headers.get('retry-after') ?? '1');
    if (Date.now() > deadline) throw new Error(`export still running after ${timeoutMs} ms: ${x}`);
    await new Promise((r) => setTimeout(r, Math.max(10, retryAfter * 1000 * pace)));
  }
}

/** Downloads a file of the manifest: NDJSON lines (a last newline ends the file). */
export async function download(url: string): Promise<string[]> {
  const res = await fetch(url, { headers: { accept: 'application/fhir+ndjson' } });
  const text = await res.text();
  expect(res.status, `${url}: ${text.slice(0, 300)}`).toBe(200);
  expect(res.headers.get('content-type')).toMatch(/^application\/fhir\+ndjson/);
  if (text === '') return [];
  expect(text.endsWith('\n')).toBe(true);
  return text.slice(0, -1).split('\n');
}

/** The whole flow. */
export async function bulkExport(baseUrl: string, path: string, options: KickoffOptions = {}): Promise<ExportResult> {
  const statusUrl = await kickoff(baseUrl, path, options);
  const { manifest, progress } = await poll(statusUrl);
  expect(typeof manifest.transactionTime).toBe('string');
  expect(typeof manifest.requiresAccessToken).toBe('boolean');
  expect(Array.isArray(manifest.output) && Array.isArray(manifest.error)).toBe(true);
  const files = new Map<string, string[]>();
  for (const item of manifest.output) {
    const lines = await download(item.url);
    if (item.count !== undefined) expect(lines.length, item.url).toBe(item.count);
    for (const line of lines) expect((JSON.parse(line) as { resourceType: string }).resourceType).toBe(item.type);
    files.set(item.url, lines);
  }
  return { statusUrl, manifest, progress, files };
}

/** Every exported line by `Type/id`; a resource exported twice fails the test. */
export function linesByKey(result: ExportResult): Map<string, string> {
  const out = new Map<string, string>();
  for (const lines of result.files.values()) {
    for (const line of lines) {
      const r = JSON.parse(line) as { resourceType: string; id: string };
      const key = `${r.resourceType}/${r.id}`;
      expect(out.has(key), `${key} exported twice`).toBe(false);
      out.set(key, line);
    }
  }
  return out;
}
