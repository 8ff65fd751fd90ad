/** DOMAIN §C.1: performed by a qualified clinician (PT/OT, or an assistant under one): performer and role. */
import { computedRule, type Problem } from '../rule.js';
import { SOURCES } from '../codes.js';
import { cptCode, keyOf } from '../session.js';
import { participantRoles, performerRoles } from '../roles.js';

export const qualifiedPerformer = computedRule({
  id: 'c1-qualified-performer',
  severity: 'error',
  subject: 'Procedure',
  title: 'Furnished by a qualified therapist, or by an assistant under one',
  element: 'Procedure.performer',
  source: 'MBPM ch. 15 §220 (services furnished by or under the supervision of a qualified therapist); seed: "must be provided by a qualified clinician"; DOMAIN-97116 §C.1',
  reference: SOURCES.mbpm,
  fix: 'Name who furnished the service in Procedure.performer with their role (performer.function, NUCC taxonomy, or a PractitionerRole coded with it); for an assistant, put the supervising therapist on the Encounter.',
  async check(procedure, session) {
    const roles = await performerRoles(procedure, session);
    const code = cptCode(procedure);
    if (roles.length === 0) {
      return [{ detail: `No performer: record who furnished this ${code} service in Procedure.performer (actor and function).` }];
    }
    const problems: Problem[] = [];
    for (const role of roles.filter((r) => !r.discipline)) {
      problems.push({
        detail: `${role.display} has no known therapy role: add performer.function with the NUCC code (PT 225100000X, PTA 225200000X, OT 225X00000X, OTA 224Z00000X, SLP 235Z00000X), or reference a PractitionerRole that has it.`,
        implicated: role.actorKey ? [role.actorKey] : [],
      });
    }
    const known = roles.filter((r) => r.discipline);
    if (known.length && known.every((r) => r.assistant)) {
      const present = [...roles, ...(await participantRoles(session))];
      for (const discipline of new Set(known.map((r) => r.discipline))) {
        if (present.some((r) => r.discipline === discipline && !r.assistant)) continue;
        const label = known.find((r) => r.discipline === discipline)?.label;
        problems.push({
          detail: `Furnished by a ${label} with no ${discipline} therapist on the session: add the supervising therapist to Encounter.participant.`,
          implicated: session.encounter ? [keyOf(session.encounter)] : [],
          expression: ['Encounter.participant'],
        });
      }
    }
    return problems;
  },
});
