/**
 * A practice for the revenue-cycle tests: the guide's example session posted once (therapists, clinic, Medicare),
 * more payers and a second clinic, then patients of any payer and clinic, each with sessions on the dates asked for
 * (test/bots/visits.ts). Everything over HTTP.
 */
import type { Bundle, Claim, Organization, Resource } from '@medplum/fhirtypes';
import { expect } from 'vitest';
import { fhir } from '../support/http.js';
import { postSession, sessionBundle, urn, type Name } from '../bots/session.js';
import { postVisit, type VisitService } from '../bots/visits.js';
import { npiCheckDigit } from '../../src/billing/npi.js';

export interface Payer {
  ref: string;
  name: string;
  id: string;
  /** Source of Payment Typology code of its coverages: 1 Medicare, 5 commercial, 2 Medicaid. */
  sopt: string;
}

export interface Practice {
  /** Stored shared resources by the example's names (pt, pta, md, ptRole, ptaRole, clinic, payer). */
  keys: Record<string, string>;
  payers: Payer[];
  clinics: string[];
}

const SHARED: Name[] = ['pt', 'pta', 'md', 'ptRole', 'ptaRole'];

export function npi(stem: string): string {
  return `${stem}${npiCheckDigit(stem)}`;
}

export async function createPractice(baseUrl: string): Promise<Practice> {
  const { keys } = await postSession(baseUrl, sessionBundle());
  const create = async (resource: Resource) => {
    const reply = await fhir<Resource>(baseUrl, 'POST', resource.resourceType, resource);
    expect(reply.status, reply.text.slice(0, 300)).toBe(201);
    return `${resource.resourceType}/${reply.body.id}`;
  };
  const payer = (name: string, id: string): Organization => ({ resourceType: 'Organization', identifier: [{ system: 'http://stride-fhir.org/fhir/sid/payer-id', value: id }], active: true, type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'pay' }] }], name });
  const payers: Payer[] = [
    { ref: keys.payer!, name: 'Medicare Part B', id: 'MCRB-IL', sopt: '1' },
    { ref: await create(payer('Lakeside Health Plan', 'LHP01')), name: 'Lakeside Health Plan', id: 'LHP01', sopt: '5' },
    { ref: await create(payer('Prairie Medicaid', 'PMCD9')), name: 'Prairie Medicaid', id: 'PMCD9', sopt: '2' },
  ];
  const clinic2: Organization = {
    resourceType: 'Organization',
    identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: npi('198765432') }, { system: 'urn:oid:2.16.840.1.113883.4.4', value: '987654321' }],
    active: true,
    type: [{ coding: [{ system: 'http://terminology.hl7.org/CodeSystem/organization-type', code: 'prov' }] }],
    name: 'Eastside Rehabilitation',
    telecom: [{ system: 'phone', value: '217-555-0199' }],
    address: [{ line: ['9 Elm Street'], city: 'Springfield', state: 'IL', postalCode: '62702' }],
  };
  return { keys, payers, clinics: [keys.clinic!, await create(clinic2)] };
}

export interface PatientOptions {
  payer: Payer;
  clinic: string;
  /** One session per entry: its date and services (the first is the patient's first session). */
  sessions: Array<{ date: string; hour?: number; services: VisitService[] }>;
  family?: string;
}

/** A new patient of the practice with her sessions; her keys (patient, coverage, encounter of the last session ...). */
export async function createPatient(baseUrl: string, practice: Practice, options: PatientOptions): Promise<Record<string, string>> {
  const [first, ...rest] = options.sessions;
  const bundle = firstSession(practice, options, first!);
  const posted = await postSession(baseUrl, bundle);
  let keys: Record<string, string> = { ...practice.keys, ...posted.keys, clinic: options.clinic, payer: options.payer.ref };
  for (const s of rest) keys = (await postVisit(baseUrl, keys, { hour: s.hour ?? 9, date: s.date, services: s.services })).keys;
  return keys;
}

/** The example's first session for a new patient: the shared resources referenced, the payer and clinic chosen. */
function firstSession(practice: Practice, options: PatientOptions, session: PatientOptions['sessions'][number]): Bundle {
  const shared: Record<string, string> = { ...Object.fromEntries(SHARED.map((n) => [n, practice.keys[n]!])), clinic: options.clinic, payer: options.payer.ref };
  const bundle = sessionBundle((p) => {
    for (const name of Object.keys(shared)) delete p[name as Name];
    p.coverage.type = { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code: options.payer.sopt }] };
    p.coverage.subscriberId = `M${Math.random().toString(36).slice(2, 11).toUpperCase()}`;
    p.coverage.identifier[0].value = p.coverage.subscriberId;
    p.coverage.payor = [{ reference: urn('payer'), display: options.payer.name }];
    if (options.family) p.patient.name[0].family = options.family;
  });
  let text = JSON.stringify(bundle);
  for (const [name, ref] of Object.entries(shared)) text = text.replaceAll(urn(name as Name), ref);
  const out = JSON.parse(text) as Bundle;
  return retime(out, session);
}

/** Moves the example session to the date and services asked (the first visit of a patient). */
function retime(bundle: Bundle, session: PatientOptions['sessions'][number]): Bundle {
  const names = new Set(session.services.map((s) => s.name));
  const keep = (fullUrl: string | undefined) => !['gait', 'exercise', 'activities'].some((n) => fullUrl === urn(n as Name) && !names.has(n as VisitService['name']));
  let text = JSON.stringify({ ...bundle, entry: bundle.entry!.filter((e) => keep(e.fullUrl)) });
  text = text.replaceAll('2026-11-10', session.date);
  const out = JSON.parse(text) as Bundle;
  for (const s of session.services) {
    const procedure = out.entry!.find((e) => e.fullUrl === urn(s.name))!.resource as { extension: Array<{ url: string; valueInteger?: number }> };
    const ext = procedure.extension.find((e) => e.url.endsWith('/timed-minutes'));
    if (ext) ext.valueInteger = s.minutes;
    else procedure.extension.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes', valueInteger: s.minutes });
  }
  return out;
}

export async function searchAll<T extends Resource>(baseUrl: string, query: string): Promise<T[]> {
  const out: T[] = [];
  let next: string | undefined = query.includes('_count') ? query : `${query}${query.includes('?') ? '&' : '?'}_count=1000`;
  while (next) {
    const reply: { status: number; body: Bundle; text: string } = await fhir<Bundle>(baseUrl, 'GET', next);
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    out.push(...(reply.body.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => e.resource as T));
    const link = reply.body.link?.find((l) => l.relation === 'next')?.url;
    next = link ? link.slice(link.indexOf('/fhir/') + 6) : undefined;
  }
  return out;
}

export type { Claim };
