/**
 * The profile layer: a resource is checked against the profiles it claims in `meta.profile` and those a caller asks
 * for (the `profile` parameter of $validate, `--profile` of the CLI). Unknown profiles:
 * - asked for by the caller: an error naming it (the validation that was asked for cannot be done);
 * - claimed in meta.profile under Stride's canonical base: an error (a typo in our own guide's url);
 * - claimed in meta.profile elsewhere (US Core, a national profile): a warning that it was not checked, as HL7's
 *   reference validator does; refusing every resource that claims a profile Stride does not ship would refuse
 *   ordinary data.
 */
import { toTypedValue } from '@medplum/core';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import type { CompiledProfile } from './profile-rules.js';
import { checkScope } from './profile-check.js';
import type { Terminology } from './terminology.js';
import { issue } from './issues.js';

export const STRIDE_CANONICAL = 'http://stride-fhir.org/fhir/';
const HL7_SD = 'http://hl7.org/fhir/StructureDefinition/';

export interface ProfileLayerDeps {
  profiles: ReadonlyMap<string, CompiledProfile>;
  terminology: Terminology;
}

export function checkProfiles(resource: Resource, path: string, requested: readonly string[], deps: ProfileLayerDeps, out: OperationOutcomeIssue[]): void {
  // A profile that is not a string (null, a number) is the structure layer's error; only strings can name profiles.
  const declared = Array.isArray(resource.meta?.profile) ? resource.meta.profile : [];
  const seen = new Set<string>();
  const targets: Array<{ url: string; asked: boolean; at: string }> = [
    ...requested.map((url) => ({ url, asked: true, at: path })),
    ...declared.flatMap((url, i) => (typeof url === 'string' ? [{ url, asked: false, at: `${path}.meta.profile[${i}]` }] : [])),
  ];
  for (const { url, asked, at } of targets) {
    const key = url.split('|')[0];
    if (seen.has(key)) continue;
    seen.add(key);
    // The base definition of the resource's own type is what the structure layer already checked.
    if (key === `${HL7_SD}${resource.resourceType}`) continue;
    const profile = deps.profiles.get(key);
    if (!profile) {
      reportUnknown(url, asked, at, deps, out);
      continue;
    }
    if (profile.type !== resource.resourceType) {
      out.push(issue('error', 'invalid', `${at}: profile ${profile.name} (${key}) is for ${profile.type}, not ${resource.resourceType}`, at));
      continue;
    }
    const tv = toTypedValue(resource);
    checkScope(profile.root, [{ tv, path }], { terminology: deps.terminology, resource: tv, profile, out });
  }
}

function reportUnknown(url: string, asked: boolean, at: string, deps: ProfileLayerDeps, out: OperationOutcomeIssue[]): void {
  const known = [...deps.profiles.keys()].join(', ') || 'none';
  if (asked || url.startsWith(STRIDE_CANONICAL)) {
    out.push(issue('error', 'not-found', `${at}: profile "${url}" is not known to this server; the profiles it knows are: ${known}`, at));
  } else {
    out.push(issue('warning', 'not-found', `${at}: profile "${url}" is not known to this server and was not checked`, at));
  }
}
