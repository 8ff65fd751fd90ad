/**
 * CapabilityStatement.rest.security (R4 capabilitystatement-definitions.html#CapabilityStatement.rest.security): what
 * is in force. With auth on: the SMART-on-FHIR service code and the token endpoint in the oauth-uris extension (SMART
 * App Launch 1.0 conformance; 2.x moved discovery to .well-known/smart-configuration, which Stride also serves).
 */
import type { CapabilityStatement, CapabilityStatementRestSecurity } from '@medplum/fhirtypes';
import type { AuthConfig } from '../config.js';

export function securityOf(auth: AuthConfig, baseUrl: string): CapabilityStatementRestSecurity {
  if (!auth.required) {
    return { cors: false, description: `No authentication (${auth.reason}): every request is served as the system.` };
  }
  const tokenUrl = `${new URL(baseUrl).origin}/auth/token`;
  return {
    cors: false,
    service: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR', display: 'SMART-on-FHIR' }] }],
    description:
      'SMART Backend Services (client_credentials, private_key_jwt with RS384 or ES384): every request but /metadata needs a bearer token; ' +
      'SMART v2 (and v1) system/ and patient/ scopes are enforced on every interaction and operation; see .well-known/smart-configuration.',
    extension: [{ url: 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris', extension: [{ url: 'token', valueUri: tokenUrl }] }],
  };
}

export function withSecurity(statement: CapabilityStatement, auth: AuthConfig, baseUrl: string): CapabilityStatement {
  return { ...statement, rest: statement.rest?.map((rest) => ({ ...rest, security: securityOf(auth, baseUrl) })) };
}
