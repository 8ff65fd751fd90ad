/**
 * More visits of the example patient (test/bots/session.ts): a visit is the example session's Encounter, the
 * Procedures a test names with their minutes, the outcome measures and the signature, on the resources the first
 * session stored (patient, therapists, clinic, coverage, plan of care), at the hour given on 2026-11-10.
 */
import type { Bundle, BundleEntry, Resource } from '@medplum/fhirtypes';
import { EXT, postSession, sessionBundle, urn, type Name, type Posted } from './session.js';

export type ServiceName = 'gait' | 'exercise' | 'activities';

export interface VisitService {
  name: ServiceName;
  minutes: number;
  /** 'ot': performed by the occupational therapist (posted with the visit, or `keys.ot` when known). */
  by?: 'pt' | 'ot';
}

export interface VisitOptions {
  hour: number;
  services: VisitService[];
  date?: string;
  status?: string;
}

/** The example's shared resources: written by the first session, referenced by later visits. */
const SHARED: Name[] = ['patient', 'pt', 'pta', 'md', 'ptRole', 'ptaRole', 'clinic', 'payer', 'coverage', 'gaitDx', 'hipDx', 'episode', 'plan', 'walkGoal', 'stairsGoal', 'priorLevel'];

/** An occupational therapist (NPI with a valid check digit), as a visit bundle's first entry when needed. */
export const OT_URN = 'urn:uuid:0c0c0c0c-0000-4000-8000-00000000000c';
const OT_PRACTITIONER: Resource = {
  resourceType: 'Practitioner',
  identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1245319599' }],
  name: [{ use: 'official', family: 'Ng', given: ['Lee'], suffix: ['OTR/L'] }],
  qualification: [{ code: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225X00000X', display: 'Occupational Therapist' }] } }],
} as Resource;
const OT_FUNCTION = { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225X00000X', display: 'Occupational Therapist' }] };

const at = (date: string, hour: number, minute: number) => {
  const total = hour * 60 + minute;
  return `${date}T${String(Math.floor(total / 60)).padStart(2, '0')}:${String(total % 60).padStart(2, '0')}:00-05:00`;
};

/**
 * A bundle of a visit: the first one of a new patient (the example's shared resources with it) when `keys` is null,
 * else one more visit of the patient the first session (`keys`) stored.
 */
export function visitBundle(keys: Record<string, string> | null, options: VisitOptions): Bundle {
  const date = options.date ?? '2026-11-10';
  const ot = options.services.some((s) => s.by === 'ot') && !keys?.ot;
  const otRef = keys?.ot ?? OT_URN;
  const bundle = sessionBundle((p) => {
    let minute = 0;
    for (const name of ['gait', 'exercise', 'activities'] as const) {
      const wanted = options.services.find((s) => s.name === name);
      if (!wanted) {
        delete p[name];
        continue;
      }
      const procedure = p[name];
      procedure.performedPeriod = { start: at(date, options.hour, minute), end: at(date, options.hour, minute + wanted.minutes) };
      procedure.extension = [...(procedure.extension ?? []).filter((e: { url: string }) => e.url !== EXT('timed-minutes')), { url: EXT('timed-minutes'), valueInteger: wanted.minutes }];
      if (wanted.by === 'ot') procedure.performer = [{ function: OT_FUNCTION, actor: { reference: otRef } }];
      minute += wanted.minutes;
    }
    const total = Math.max(minute, 1);
    p.encounter.period = { start: at(date, options.hour, 0), end: at(date, options.hour, total) };
    p.encounter.length = { ...p.encounter.length, value: total };
    if (options.status) p.encounter.status = options.status;
    p.gaitSpeed.effectiveDateTime = at(date, options.hour, 0);
    p.tug.effectiveDateTime = at(date, options.hour, 0);
    p.signature.recorded = at(date, options.hour, total + 5);
    // A visit only of the occupational therapist is signed by her.
    if (options.services.every((s) => s.by === 'ot')) p.signature.agent[0].who = { reference: otRef };
    if (keys) for (const name of SHARED) delete p[name];
  });
  let text = JSON.stringify(bundle);
  if (keys) for (const name of SHARED) text = text.replaceAll(urn(name), keys[name]!);
  const out = JSON.parse(text) as Bundle;
  if (ot) out.entry = [{ fullUrl: OT_URN, resource: OT_PRACTITIONER, request: { method: 'POST', url: 'Practitioner' } }, ...(out.entry ?? [])];
  return out;
}

/** Posts a visit (the first of a new patient when `keys` is null); its keys (encounter, gait, ...) with the shared ones. */
export async function postVisit(baseUrl: string, keys: Record<string, string> | null, options: VisitOptions): Promise<Posted> {
  const posted = await postSession(baseUrl, visitBundle(keys, options));
  const ot = posted.reply.body.entry?.find((e: BundleEntry) => e.response?.location?.startsWith('Practitioner/'))?.response?.location?.split('/_history')[0];
  return { ...posted, keys: { ...keys, ...posted.keys, ...(ot ? { ot } : {}) } };
}
