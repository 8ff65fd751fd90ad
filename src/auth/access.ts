/** Who is calling, as the FHIR layer sees it (RequestContext.access): set from a verified access token. */
import type { Grants } from './scopes.js';

export interface Access {
  clientId: string;
  grants: Grants;
  /** The scope string the token carries. */
  scope: string;
  /** Set for a patient-scoped client: every result is limited to this Patient's compartment. */
  patient?: string;
}
