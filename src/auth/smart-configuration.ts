/**
 * `.well-known/smart-configuration` (SMART App Launch 2.x conformance.html#metadata): what a backend-services client
 * needs to find the token endpoint and how to authenticate to it. Only the backend-services flow is served.
 */
import { ASSERTION_ALGORITHMS } from './token-endpoint.js';

export function smartConfiguration(tokenEndpoint: string): Record<string, unknown> {
  return {
    token_endpoint: tokenEndpoint,
    token_endpoint_auth_methods_supported: ['private_key_jwt'],
    token_endpoint_auth_signing_alg_values_supported: ASSERTION_ALGORITHMS,
    grant_types_supported: ['client_credentials'],
    scopes_supported: ['system/*.cruds', 'system/*.rs', 'system/*.read', 'system/*.write', 'patient/*.rs', 'patient/*.cruds', 'patient/*.read'],
    capabilities: ['client-confidential-asymmetric', 'permission-v1', 'permission-v2'],
  };
}
