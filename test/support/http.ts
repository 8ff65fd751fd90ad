/** Small fetch helpers for FHIR over HTTP in tests. */
import type { Resource } from '@medplum/fhirtypes';

export interface FhirReply<T = Resource> {
  status: number;
  headers: Headers;
  body: T;
  text: string;
}

export async function fhir<T = any>(baseUrl: string, method: string, path: string, body?: unknown, headers: Record<string, string> = {}): Promise<FhirReply<T>> {
  const init: RequestInit = { method, headers: { ...headers } };
  if (body !== undefined) {
    init.body = typeof body === 'string' ? body : JSON.stringify(body);
    (init.headers as Record<string, string>)['content-type'] ??= 'application/fhir+json';
  }
  const res = await fetch(`${baseUrl}${path.startsWith('/') || path === '' ? '' : '/'}${path}`, init);
  const text = await res.text();
  let parsed: unknown = undefined;
  try {
    parsed = text ? JSON.parse(text) : undefined;
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed as T, text };
}
