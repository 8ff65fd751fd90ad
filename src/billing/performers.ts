/**
 * Who furnished a Procedure, per the guide's contract (profiles/README.md §3.2): the discipline and assistant status
 * come from `performer.function` (NUCC taxonomy) when present, else from the `code` of the PractitionerRole that
 * `performer.actor` references; a Practitioner actor without `function` has no known discipline. Minutes per
 * performer come from the `performer-minutes` extension; without it a performer furnished all the minutes.
 */
import type { Extension, Practitioner, PractitionerRole, Procedure, Resource } from '@medplum/fhirtypes';
import { EXTENSIONS, NUCC_TAXONOMY, SYSTEMS, codingIn } from './codes.js';
import type { Discipline } from './types.js';

export interface PerformerFact {
  /** Procedure.performer.actor.reference (a Practitioner or PractitionerRole). */
  readonly actorRef: string;
  /** The Practitioner behind the actor (PractitionerRole.practitioner, or the actor itself). */
  readonly practitionerRef: string | null;
  readonly practitioner: Practitioner | null;
  /** "Maria Alvarez, PT, DPT": name and credentials, else the reference's display. */
  readonly display: string | null;
  readonly discipline: Discipline | null;
  readonly assistant: boolean;
  /** The NUCC taxonomy code the discipline came from. */
  readonly taxonomy: string | null;
  /** The minutes this performer furnished (performer-minutes), or null when the extension does not say. */
  readonly documentedMinutes: number | null;
}

type Lookup = (reference: string) => Resource | undefined;

export function readPerformers(procedure: Procedure, resolve: Lookup): PerformerFact[] {
  const minutesByRef = performerMinutes(procedure.extension);
  const facts: PerformerFact[] = [];
  for (const performer of procedure.performer ?? []) {
    const actorRef = performer.actor?.reference;
    if (!actorRef) continue;
    const actor = resolve(actorRef);
    if (actor && actor.resourceType !== 'Practitioner' && actor.resourceType !== 'PractitionerRole') continue;
    const role = actor?.resourceType === 'PractitionerRole' ? actor : null;
    const practitionerRef = role ? role.practitioner?.reference ?? null : actor || actorRef.startsWith('Practitioner/') ? actorRef : null;
    const found = practitionerRef ? resolve(practitionerRef) : undefined;
    const practitioner = found?.resourceType === 'Practitioner' ? found : null;
    const taxonomy = codingIn(performer.function, SYSTEMS.nucc)?.code ?? roleTaxonomy(role);
    const known = taxonomy ? NUCC_TAXONOMY[taxonomy] : undefined;
    const documented = minutesByRef.get(actorRef) ?? (practitionerRef ? minutesByRef.get(practitionerRef) : undefined);
    facts.push({
      actorRef,
      practitionerRef,
      practitioner,
      display: practitionerDisplay(practitioner) ?? performer.actor?.display ?? null,
      discipline: known?.discipline ?? null,
      assistant: known?.assistant ?? false,
      taxonomy: known ? taxonomy : null,
      documentedMinutes: documented ?? null,
    });
  }
  return facts;
}

function roleTaxonomy(role: PractitionerRole | null): string | null {
  for (const concept of role?.code ?? []) {
    const code = codingIn(concept, SYSTEMS.nucc)?.code;
    if (code && NUCC_TAXONOMY[code]) return code;
  }
  return null;
}

/** performer-minutes extensions: performer reference -> minutes (guide §5). */
function performerMinutes(extensions: readonly Extension[] | undefined): Map<string, number> {
  const map = new Map<string, number>();
  for (const ext of extensions ?? []) {
    if (ext.url !== EXTENSIONS.performerMinutes) continue;
    const ref = ext.extension?.find((e) => e.url === 'performer')?.valueReference?.reference;
    const minutes = ext.extension?.find((e) => e.url === 'minutes')?.valueInteger;
    if (ref && Number.isInteger(minutes) && minutes! >= 0) map.set(ref, minutes!);
  }
  return map;
}

/** "Maria Alvarez, PT, DPT": the official (else first) name, then the credentials in `suffix`. */
export function practitionerDisplay(practitioner: Practitioner | null): string | null {
  const name = practitioner?.name?.find((n) => n.use === 'official') ?? practitioner?.name?.[0];
  if (!name) return null;
  const person = [name.given?.[0], name.family].filter(Boolean).join(' ') || name.text;
  if (!person) return null;
  return [person, ...(name.suffix ?? [])].join(', ');
}
