/**
 * The search bench's data (issue 3, Show): generated therapy patients, each with 10 sessions (Encounter), 2
 * procedures and 2 outcome measures per session: 51 resources a patient, deterministic for a given count. Bundles
 * are transactions of PUTs with client ids, so the queries can name resources without looking them up.
 */
import { prng } from '../support/random.js';

export const RESOURCES_PER_PATIENT = 51;
export const LOINC = 'http://loinc.org';
export const CPT = 'http://www.ama-assn.org/go/cpt';
export const MRN = 'urn:stride:mrn';
export const GAIT_SPEED = '41909-3';
export const SIX_MINUTE_WALK = '64098-7';

const FAMILIES = ['Okafor', 'Jensen', 'Ito', 'Moreau', 'Novak', 'Silva', 'Haddad', 'Kowalski', 'Lindqvist', 'Tanaka', 'Adeyemi', 'Rossi', 'Nguyen', 'Schmidt', 'Costa', 'Bauer', 'Kim', 'Ferreira', 'Dubois', 'Ahmed'];
const GIVEN = ['Ann', 'Bea', 'Cal', 'Dev', 'Eli', 'Fay', 'Gus', 'Hal', 'Ida', 'Jon', 'Kai', 'Lea', 'Max', 'Nia', 'Oto', 'Pia'];
const PROCEDURES = ['97116', '97110', '97140', '97530'];

const UCUM = 'http://unitsofmeasure.org';
const day = (base: number, offset: number): string => new Date(base + offset * 86_400_000).toISOString();
const START = Date.parse('2024-01-01T09:00:00Z');

/** Family names are a surname and a number, so `family=<name>` matches a handful of patients (~1 in 2,000). */
export function familyOf(i: number): string {
  return `${FAMILIES[i % FAMILIES.length]}${Math.floor(i / FAMILIES.length) % 100}`;
}

function patientResources(i: number, rand: () => number): object[] {
  const pid = `bp${i}`;
  const out: object[] = [
    {
      resourceType: 'Patient',
      id: pid,
      identifier: [{ system: MRN, value: `MRN-${i}` }],
      name: [{ family: familyOf(i), given: [GIVEN[i % GIVEN.length]] }],
      gender: i % 2 ? 'female' : 'male',
      birthDate: day(Date.parse('1940-01-01'), Math.floor(rand() * 20000)).slice(0, 10),
      managingOrganization: { reference: `Organization/clinic${i % 50}` },
    },
  ];
  for (let k = 0; k < 10; k++) {
    const when = day(START, Math.floor(rand() * 900));
    const eid = `be${i}-${k}`;
    out.push({ resourceType: 'Encounter', id: eid, status: 'finished', class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' }, subject: { reference: `Patient/${pid}` }, period: { start: when }, length: { value: 45, unit: 'min', system: UCUM, code: 'min' } });
    for (let p = 0; p < 2; p++) {
      out.push({ resourceType: 'Procedure', id: `bx${i}-${k}-${p}`, status: 'completed', code: { coding: [{ system: CPT, code: PROCEDURES[(k + p) % PROCEDURES.length] }] }, subject: { reference: `Patient/${pid}` }, encounter: { reference: `Encounter/${eid}` }, performedDateTime: when, performer: [{ actor: { reference: `Practitioner/pr${i % 200}` } }] });
    }
    const speed = Math.round((0.2 + rand() * 1.4) * 100) / 100;
    const walk = Math.round(100 + rand() * 600);
    out.push({ resourceType: 'Observation', id: `bo${i}-${k}-s`, status: 'final', code: { coding: [{ system: LOINC, code: GAIT_SPEED, display: 'Gait speed' }] }, subject: { reference: `Patient/${pid}` }, encounter: { reference: `Encounter/${eid}` }, effectiveDateTime: when, valueQuantity: { value: speed, unit: 'm/s', system: UCUM, code: 'm/s' } });
    out.push({ resourceType: 'Observation', id: `bo${i}-${k}-w`, status: 'final', code: { coding: [{ system: LOINC, code: SIX_MINUTE_WALK, display: 'Six minute walk distance' }] }, subject: { reference: `Patient/${pid}` }, encounter: { reference: `Encounter/${eid}` }, effectiveDateTime: when, valueQuantity: { value: walk, unit: 'm', system: UCUM, code: 'm' } });
  }
  return out;
}

/** Transaction Bundles (JSON text) of `patients` generated patients, `perBundle` patients each. */
export function* generatedBundles(patients: number, perBundle = 20): Generator<string> {
  const rand = prng(97116);
  for (let first = 0; first < patients; first += perBundle) {
    const entry: object[] = [];
    for (let i = first; i < Math.min(patients, first + perBundle); i++) {
      for (const resource of patientResources(i, rand)) {
        const r = resource as { resourceType: string; id: string };
        entry.push({ resource, request: { method: 'PUT', url: `${r.resourceType}/${r.id}` } });
      }
    }
    yield JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
  }
}

/** The organizations and practitioners the patients refer to. */
export function referenceBundle(): string {
  const entry: object[] = [];
  for (let c = 0; c < 50; c++) entry.push({ resource: { resourceType: 'Organization', id: `clinic${c}`, name: `Clinic ${c}` }, request: { method: 'PUT', url: `Organization/clinic${c}` } });
  for (let p = 0; p < 200; p++) entry.push({ resource: { resourceType: 'Practitioner', id: `pr${p}`, name: [{ family: `Therapist${p}` }] }, request: { method: 'PUT', url: `Practitioner/pr${p}` } });
  return JSON.stringify({ resourceType: 'Bundle', type: 'transaction', entry });
}
