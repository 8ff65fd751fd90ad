/**
 * The Claim's careTeam (guide decision 7): the rendering provider is the entry with role `primary`: the therapist
 * who furnished the most minutes of the billed services, or, when only assistants furnished them, the supervising
 * therapist named on the Encounter. Assistants are listed with role `assist` (they do not bill Medicare in their own
 * name), other therapists with role `other`. 837P loop 2310B takes the primary.
 */
import type { ClaimCareTeam, CodeableConcept, Encounter, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { NUCC_TAXONOMY, SYSTEMS, codingIn, taxonomyCoding } from './codes.js';
import type { BillingLine } from './lines.js';
import { practitionerDisplay } from './performers.js';
import type { ResourceLookup } from './session.js';
import type { BillingFacts } from './day.js';

export interface CareTeamMember {
  readonly sequence: number;
  readonly practitionerRef: string;
  readonly display: string | null;
  readonly role: 'primary' | 'assist' | 'other';
  readonly taxonomy: string | null;
}

interface Candidate {
  practitionerRef: string;
  display: string | null;
  assistant: boolean;
  taxonomy: string | null;
  minutes: number;
}

export function buildCareTeam(facts: BillingFacts, lines: readonly BillingLine[]): CareTeamMember[] {
  const candidates = new Map<string, Candidate>();
  const counted = new Set<string>();
  for (const line of lines) {
    for (const service of line.services) {
      for (const p of service.performers.filter((x) => line.performers.includes(x))) {
        if (!p.practitionerRef) continue;
        const c = candidates.get(p.practitionerRef) ?? { practitionerRef: p.practitionerRef, display: p.display, assistant: p.assistant, taxonomy: p.taxonomy, minutes: 0 };
        candidates.set(p.practitionerRef, c);
        // A service split into several lines (CQ/CO, co-treatment) counts once per practitioner.
        if (counted.has(`${service.ref}|${p.practitionerRef}`)) continue;
        counted.add(`${service.ref}|${p.practitionerRef}`);
        c.minutes += Math.min(p.documentedMinutes ?? service.minutes ?? 0, service.minutes ?? 0);
      }
    }
  }
  const all = [...candidates.values()];
  let primary = all.filter((c) => !c.assistant).reduce<Candidate | null>((best, c) => (best === null || c.minutes > best.minutes ? c : best), null);
  for (const session of facts.sessions) {
    if (primary !== null) break;
    primary = supervisingTherapist(session.encounter, facts.resolve);
  }
  const members: CareTeamMember[] = [];
  const add = (c: Candidate, role: CareTeamMember['role']): void => {
    members.push({ sequence: members.length + 1, practitionerRef: c.practitionerRef, display: c.display, role, taxonomy: c.taxonomy });
  };
  if (primary) add(primary, 'primary');
  for (const c of all) if (c.practitionerRef !== primary?.practitionerRef) add(c, c.assistant ? 'assist' : 'other');
  return members;
}

/**
 * When assistants furnished every billed service, the rendering provider is the supervising therapist: the
 * Encounter participant who is a therapist (not an assistant), the primary performer (PPRF) first.
 */
function supervisingTherapist(encounter: Encounter, resolve: ResourceLookup): Candidate | null {
  const participants = [...(encounter.participant ?? [])].sort((a, b) => Number(isPrimary(b.type)) - Number(isPrimary(a.type)));
  for (const participant of participants) {
    const ref = participant.individual?.reference;
    const found = ref ? resolve(ref) : undefined;
    if (!ref || !found) continue;
    const role = found.resourceType === 'PractitionerRole' ? (found as PractitionerRole) : null;
    const practitionerRef = role ? role.practitioner?.reference : found.resourceType === 'Practitioner' ? ref : undefined;
    if (!practitionerRef) continue;
    const taxonomy = role?.code?.map((c) => codingIn(c, SYSTEMS.nucc)?.code).find((c) => c && NUCC_TAXONOMY[c]) ?? null;
    if (taxonomy === null || NUCC_TAXONOMY[taxonomy]!.assistant) continue;
    const practitioner = resolve(practitionerRef);
    const display = practitionerDisplay(practitioner?.resourceType === 'Practitioner' ? (practitioner as Practitioner) : null);
    return { practitionerRef, display: display ?? participant.individual?.display ?? null, assistant: false, taxonomy, minutes: 0 };
  }
  return null;
}

function isPrimary(types: readonly CodeableConcept[] | undefined): boolean {
  return (types ?? []).some((t) => t.coding?.some((c) => c.code === 'PPRF'));
}

export function toClaimCareTeam(members: readonly CareTeamMember[]): ClaimCareTeam[] {
  return members.map((m) => ({
    sequence: m.sequence,
    provider: m.display ? { reference: m.practitionerRef, display: m.display } : { reference: m.practitionerRef },
    role: { coding: [{ system: SYSTEMS.careTeamRole, ...ROLE_CODINGS[m.role] }] },
    ...(m.taxonomy ? { qualification: { coding: [taxonomyCoding(m.taxonomy)] } } : {}),
  }));
}

const ROLE_CODINGS = {
  primary: { code: 'primary', display: 'Primary provider' },
  assist: { code: 'assist', display: 'Assisting Provider' },
  other: { code: 'other', display: 'Other' },
} as const;
