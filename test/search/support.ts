/** Helpers for the search suites: load resources in one transaction, and read what a search returned. */
import { expect } from 'vitest';
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { fhir, type FhirReply } from '../support/http.js';

/** PUTs the resources (each with its id) in one transaction Bundle. */
export async function load(baseUrl: string, resources: Resource[]): Promise<void> {
  const entry: BundleEntry[] = resources.map((resource) => ({ resource, request: { method: 'PUT', url: `${resource.resourceType}/${resource.id}` } }));
  const r = await fhir(baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry });
  expect(r.status, r.text.slice(0, 500)).toBe(200);
}

/** GET a search; fails the test unless it answers 200. */
export async function search(baseUrl: string, query: string, headers: Record<string, string> = {}): Promise<Bundle> {
  const r = await fhir<Bundle>(baseUrl, 'GET', query, undefined, headers);
  expect(r.status, `${query}: ${r.text.slice(0, 400)}`).toBe(200);
  return r.body;
}

/** Sorted `Type/id` of the entries with search mode `mode` (match by default). */
export function keys(bundle: Bundle, mode: 'match' | 'include' | 'outcome' = 'match'): string[] {
  return (bundle.entry ?? [])
    .filter((e) => e.search?.mode === mode)
    .map((e) => `${e.resource?.resourceType}/${e.resource?.id}`)
    .sort();
}

/** The ids of the matches, in the order returned. */
export function ids(bundle: Bundle): string[] {
  return (bundle.entry ?? []).filter((e) => e.search?.mode === 'match').map((e) => e.resource?.id as string);
}

/** Sorted ids of a search's matches. */
export async function found(baseUrl: string, query: string): Promise<string[]> {
  return ids(await search(baseUrl, query)).sort();
}

/** A 400 whose OperationOutcome names `name` (in its text or expression). */
export async function rejects(baseUrl: string, query: string, name: string, headers: Record<string, string> = {}): Promise<FhirReply> {
  const r = await fhir(baseUrl, 'GET', query, undefined, headers);
  expect(r.status, `${query}: ${r.text.slice(0, 300)}`).toBe(400);
  expect(r.body.resourceType).toBe('OperationOutcome');
  const issue = r.body.issue[0];
  expect(`${issue.details?.text} ${(issue.expression ?? []).join(' ')}`).toContain(name);
  return r;
}

export function link(bundle: Bundle, relation: string): string | undefined {
  return bundle.link?.find((l) => l.relation === relation)?.url;
}
