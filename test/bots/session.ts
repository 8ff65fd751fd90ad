/**
 * The guide's complete example session (profiles/examples/session-complete.json), by name, for the documentation
 * bot's tests: copy it, change what a test is about, post it, and read the findings back.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { Bundle, BundleEntry, DetectedIssue, Resource } from '@medplum/fhirtypes';
import { fhir, type FhirReply } from '../support/http.js';
import { ROOT } from '../support/cli.js';

const EXAMPLE = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/session-complete.json'), 'utf8')) as Bundle;

/** Entry n of the example is `urn:uuid:3f2b6c1e-0000-4000-8000-0000000000nn`. */
export const NAMES = {
  patient: 1, pt: 2, pta: 3, md: 4, ptRole: 5, ptaRole: 6, clinic: 7, payer: 8, coverage: 9, gaitDx: 10, hipDx: 11,
  episode: 12, plan: 13, walkGoal: 14, stairsGoal: 15, priorLevel: 16, encounter: 17, gait: 18, exercise: 19,
  activities: 20, gaitSpeed: 21, tug: 22, signature: 23,
} as const;
export type Name = keyof typeof NAMES;

/**
 * Server settings with only the documentation bot loaded (a bots folder holding a link to it), for tests of its
 * findings alone: with the billing bot too, a write's response also carries the Claim's findings.
 */
export function documentationBotOnly(): Record<string, string> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-doc-bot-'));
  fs.symlinkSync(path.join(ROOT, 'bots/documentation-97116'), path.join(dir, 'documentation-97116'), 'dir');
  return { STRIDE_BOTS_DIR: dir };
}

export const urn = (name: Name): string => `urn:uuid:3f2b6c1e-0000-4000-8000-${String(NAMES[name]).padStart(12, '0')}`;
export const RULE_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/documentation-97116';
export const EXT = (name: string): string => `http://stride-fhir.org/fhir/StructureDefinition/${name}`;

/** The example's resources by name; a test edits them (or deletes one to leave it out of the bundle). */
export type Parts = Partial<Record<Name, any>>;

export function sessionBundle(edit?: (parts: Parts) => void, extra: BundleEntry[] = []): Bundle {
  const copy = structuredClone(EXAMPLE);
  // The example shares its patient, therapists, clinic, payer and coverage across postings (ifNoneExist); each test
  // session here stands alone, with resources of its own.
  for (const e of copy.entry ?? []) if (e.request) delete e.request.ifNoneExist;
  const parts: Parts = {};
  for (const e of copy.entry ?? []) {
    const name = nameOf(e.fullUrl);
    if (name) parts[name] = e.resource;
  }
  edit?.(parts);
  const entry = (copy.entry ?? []).filter((e) => parts[nameOf(e.fullUrl) as Name]);
  for (const e of entry) e.resource = parts[nameOf(e.fullUrl) as Name];
  return { ...copy, entry: [...entry, ...extra] };
}

function nameOf(fullUrl: string | undefined): Name | undefined {
  return (Object.keys(NAMES) as Name[]).find((name) => fullUrl === urn(name));
}

export const post = (resource: Resource, fullUrl = `urn:uuid:${crypto.randomUUID()}`): BundleEntry => ({ fullUrl, resource, request: { method: 'POST', url: resource.resourceType } });

export interface Posted {
  reply: FhirReply<Bundle>;
  /** name -> `Type/id` */
  keys: Record<string, string>;
  /** `rule@name` of every finding the transaction response carried. */
  reported: string[];
}

export async function postSession(baseUrl: string, bundle: Bundle, headers: Record<string, string> = {}): Promise<Posted> {
  const reply = await fhir<Bundle>(baseUrl, 'POST', '', bundle, headers);
  if (reply.status !== 200) throw new Error(`session not stored: ${reply.status} ${reply.text.slice(0, 2000)}`);
  const keys: Record<string, string> = {};
  const reported = new Set<string>();
  (bundle.entry ?? []).forEach((e, i) => {
    const key = reply.body.entry?.[i]?.response?.location?.split('/_history')[0];
    const name = nameOf(e.fullUrl) ?? e.fullUrl ?? String(i);
    if (key) keys[name] = key;
    for (const issue of reply.body.entry?.[i]?.response?.outcome?.issue ?? []) {
      const rule = issue.details?.coding?.find((c) => c.system === RULE_SYSTEM)?.code;
      if (rule) reported.add(rule);
    }
  });
  return { reply, keys, reported: [...reported].sort() };
}

/**
 * The open findings of one bot (the documentation bot unless `bot` says otherwise) about a patient's sessions, as
 * `rule@name` (the subject's name in `keys`).
 */
export async function openFindings(baseUrl: string, keys: Record<string, string>, bot = 'documentation-97116'): Promise<string[]> {
  const issues = await detectedIssues(baseUrl, keys.patient);
  const names = new Map(Object.entries(keys).map(([name, key]) => [key, name]));
  return issues
    .filter((i) => i.status === 'final' && i.identifier?.[0]?.value?.startsWith(`${bot}|`))
    .map((i) => {
      const [, rule, subject] = (i.identifier?.[0]?.value ?? '').split('|');
      return `${rule}@${names.get(subject) ?? subject}`;
    })
    .sort();
}

export async function detectedIssues(baseUrl: string, patientKey: string): Promise<DetectedIssue[]> {
  const reply = await fhir<Bundle>(baseUrl, 'GET', `DetectedIssue?patient=${patientKey}&_count=200`);
  return (reply.body.entry ?? []).map((e) => e.resource as DetectedIssue);
}

export const rulesOf = (findings: string[]): string[] => [...new Set(findings.map((f) => f.split('@')[0]))].sort();
