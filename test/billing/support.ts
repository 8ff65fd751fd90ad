/**
 * Fixtures for the billing tests: the guide's example session (profiles/examples/session-complete.json) as a
 * SessionInput whose references are the bundle's fullUrls, and small helpers to vary it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { Bundle, Claim, Coverage, Encounter, Procedure, Resource } from '@medplum/fhirtypes';
import { billingPolicyFor, loadBillingPolicies, type BillingPolicy } from '../../src/billing/policy.js';
import { createLookup, readSession, type SessionFacts, type SessionInput } from '../../src/billing/session.js';
import { loadPolicies } from '../../src/bots/policies.js';

const EXAMPLES = fileURLToPath(new URL('../../profiles/examples/', import.meta.url));

/** The payer policies of bots/policies/ (the bots runtime selects one per Coverage) and their billing fields. */
export const payerPolicies = loadPolicies(fileURLToPath(new URL('../../bots/policies/', import.meta.url)));
export const billingPolicies = loadBillingPolicies();

/** The billing fields of the payer policy the runtime selects for the session's Coverage and payer. */
export function billingPolicyOf(facts: SessionFacts): BillingPolicy {
  const chosen = payerPolicies.select(facts.coverage?.resource, facts.coverage?.payer ?? undefined);
  return billingPolicyFor(chosen.id, billingPolicies);
}

export const REF = {
  patient: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000001',
  maria: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000002',
  kevin: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000003',
  mariaRole: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000005',
  kevinRole: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000006',
  clinic: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000007',
  payer: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000008',
  coverage: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000009',
  gaitDx: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000010',
  hipDx: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000011',
  encounter: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000017',
  gait: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000018',
  exercise: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000019',
  activities: 'urn:uuid:3f2b6c1e-0000-4000-8000-000000000020',
} as const;

export function readExample<T>(name: string): T {
  return JSON.parse(readFileSync(`${EXAMPLES}${name}`, 'utf8')) as T;
}

export function exampleClaim(): Claim {
  return readExample<Claim>('claim-session-complete.json');
}

/** The example session's resources by fullUrl, fresh on every call so a test may change them. */
export function exampleResources(): Map<string, Resource> {
  const bundle = readExample<Bundle>('session-complete.json');
  return new Map((bundle.entry ?? []).map((e) => [e.fullUrl!, e.resource!]));
}

export interface SessionEdit {
  (resources: Map<string, Resource>): void;
}

/** The example session as billing input, after `edit` changed its resources (and with extra resources added). */
export function exampleInput(edit?: SessionEdit): SessionInput {
  const resources = exampleResources();
  edit?.(resources);
  const refOf = new Map([...resources].map(([ref, r]) => [r, ref]));
  const all = [...resources.values()];
  return {
    encounter: resources.get(REF.encounter) as Encounter,
    procedures: all.filter((r): r is Procedure => r.resourceType === 'Procedure'),
    coverages: all.filter((r): r is Coverage => r.resourceType === 'Coverage'),
    resolve: createLookup(resources),
    referenceOf: (r) => refOf.get(r) ?? `${r.resourceType}/${r.id ?? ''}`,
  };
}

export function exampleFacts(edit?: SessionEdit): SessionFacts {
  return readSession(exampleInput(edit));
}

export function get<T extends Resource>(resources: Map<string, Resource>, ref: string): T {
  const r = resources.get(ref);
  if (!r) throw new Error(`no resource ${ref} in the example`);
  return r as T;
}

/** Sets a procedure's timed minutes (the timed-minutes extension). */
export function setMinutes(resources: Map<string, Resource>, ref: string, minutes: number): void {
  const p = get<Procedure>(resources, ref);
  const url = 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes';
  p.extension = [...(p.extension ?? []).filter((e) => e.url !== url), { url, valueInteger: minutes }];
}

export function removeExtension(resources: Map<string, Resource>, ref: string, name: string): void {
  const p = get<Procedure>(resources, ref);
  p.extension = (p.extension ?? []).filter((e) => e.url !== `http://stride-fhir.org/fhir/StructureDefinition/${name}`);
}
