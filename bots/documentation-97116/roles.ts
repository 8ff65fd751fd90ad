/**
 * Who did what, per the guide's contract (profiles/README.md §3.2): a performer's discipline and assistant status
 * come from `performer.function` (NUCC), else from the referenced PractitionerRole's `code`; a Practitioner actor
 * without `function` has no known discipline. Authors and signers are resolved the same way, with the Practitioner's
 * `qualification` as a last resort (a progress report or a signature has no `function`).
 */
import type { CodeableConcept, Practitioner, PractitionerRole, Procedure, Reference } from '@medplum/fhirtypes';
import { referenceKey } from '../../src/bots/index.js';
import { NUCC, SYSTEMS, type Discipline } from './codes.js';
import { memo, type Session } from './session.js';

export interface Role {
  /** The actor reference as written. */
  actorKey?: string;
  display: string;
  /** `Practitioner/id` behind the actor. */
  practitionerKey?: string;
  practitioner?: Practitioner;
  taxonomy?: string;
  discipline?: Discipline;
  assistant: boolean;
  label?: string;
}

function nuccCode(concepts: Array<CodeableConcept | undefined>): string | undefined {
  for (const concept of concepts) {
    const code = concept?.coding?.find((c) => c.system === SYSTEMS.nucc && c.code && NUCC[c.code])?.code;
    if (code) return code;
  }
  return undefined;
}

/** Resolves a Practitioner or PractitionerRole reference; `fn` is the performer.function when there is one. */
export async function resolveRole(session: Session, actor: Reference | undefined, fn?: CodeableConcept, useQualification = false): Promise<Role> {
  const key = referenceKey(actor);
  const target = key ? await session.ctx.read<Practitioner | PractitionerRole>(key) : undefined;
  const roleResource = target?.resourceType === 'PractitionerRole' ? target : undefined;
  const practitionerKey = roleResource ? referenceKey(roleResource.practitioner) : target?.resourceType === 'Practitioner' ? key : undefined;
  const practitioner = practitionerKey ? await session.ctx.read<Practitioner>(practitionerKey) : undefined;
  const taxonomy =
    nuccCode([fn]) ??
    nuccCode(roleResource?.code ?? []) ??
    (useQualification ? nuccCode((practitioner?.qualification ?? []).map((q) => q.code)) : undefined);
  const info = taxonomy ? NUCC[taxonomy] : undefined;
  return {
    actorKey: key,
    display: actor?.display ?? displayOf(practitioner) ?? key ?? 'a performer',
    practitionerKey,
    practitioner,
    taxonomy,
    discipline: info?.discipline,
    assistant: info?.assistant ?? false,
    label: info?.label,
  };
}

export function performerRoles(procedure: Procedure, session: Session): Promise<Role[]> {
  return memo(session, `performers:${procedure.id}`, () => Promise.all((procedure.performer ?? []).map((p) => resolveRole(session, p.actor, p.function))));
}

/** Encounter.participant individuals, resolved (the therapists present at the session). */
export function participantRoles(session: Session): Promise<Role[]> {
  return memo(session, 'participants', () =>
    Promise.all((session.encounter?.participant ?? []).filter((p) => p.individual).map((p) => resolveRole(session, p.individual))),
  );
}

/** The practitioners who treated the patient in this session: performers and Encounter participants. */
export async function treatingPractitioners(session: Session): Promise<Set<string>> {
  const roles = [...(await participantRoles(session)), ...(await Promise.all(session.timed.map((p) => performerRoles(p, session)))).flat()];
  return new Set(roles.map((r) => r.practitionerKey).filter((k): k is string => !!k));
}

export function hasCredentials(practitioner: Practitioner | undefined): boolean {
  return !!practitioner && ((practitioner.name ?? []).some((n) => n.suffix?.length) || !!practitioner.qualification?.length);
}

function displayOf(practitioner: Practitioner | undefined): string | undefined {
  const name = practitioner?.name?.[0];
  if (!name) return undefined;
  return [[...(name.given ?? []), name.family].filter(Boolean).join(' '), ...(name.suffix ?? [])].filter(Boolean).join(', ') || undefined;
}
