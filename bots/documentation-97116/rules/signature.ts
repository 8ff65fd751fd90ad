/**
 * DOMAIN §C.11: signed by the treating provider, with credentials (seed: "the signature of the treating provider";
 * MBPM ch. 15 §220.3). The guide's signature: a Provenance whose target is the Encounter and whose signature.who is
 * the treating therapist (profiles/README.md §3).
 */
import { computedRule } from '../rule.js';
import { SOURCES } from '../codes.js';
import { keyOf } from '../session.js';
import { hasCredentials, resolveRole, treatingPractitioners } from '../roles.js';

export const signature = computedRule({
  id: 'c11-signature',
  severity: 'error',
  subject: 'Encounter',
  title: 'The session is signed by the treating provider, with credentials',
  element: 'Provenance.signature',
  source: 'seed: "the signature of the treating provider"; MBPM ch. 15 §220.3 (documentation signed with the clinician\'s credentials); DOMAIN-97116 §C.11',
  reference: SOURCES.mbpm,
  fix: 'Sign the session: a Provenance with target = the Encounter and a signature whose who is the treating therapist (a Practitioner with credentials in name.suffix or qualification).',
  async check(_encounter, session) {
    if (session.signatures.length === 0) {
      return [{ detail: 'The session is not signed: the treating therapist signs it (a Provenance whose target is this Encounter, with signature.who = the therapist).' }];
    }
    const treating = await treatingPractitioners(session);
    const signers = await Promise.all(session.signatures.flatMap((p) => (p.signature ?? []).map((s) => resolveRole(session, s.who, undefined, true))));
    if (signers.some((s) => s.practitionerKey && treating.has(s.practitionerKey) && hasCredentials(s.practitioner))) return [];
    const treatingSigner = signers.find((s) => s.practitionerKey && treating.has(s.practitionerKey));
    const detail = treatingSigner
      ? `${treatingSigner.display} signed the session but their credentials are not recorded: add them to Practitioner.name.suffix (e.g. PT, DPT) or Practitioner.qualification.`
      : `The session is signed by ${signers.map((s) => s.display).join(', ')}, who did not treat the patient in it: the treating therapist (a performer or participant of the session) signs it.`;
    return [{ detail, implicated: session.signatures.map(keyOf) }];
  },
});
