/**
 * Which sessions a write concerns. The rules are about sessions, so each changed resource is mapped to the sessions
 * (Encounters) whose documentation it is part of; each session is then evaluated once, whatever number of its
 * resources the write changed.
 */
import type { CarePlan, DetectedIssue, DocumentReference, Encounter, Observation, Procedure, Provenance, Resource } from '@medplum/fhirtypes';
import { referenceKey, type BotContext, type BotInput } from '../../src/bots/index.js';
import { PRIOR_LEVEL_CODES, SYSTEMS } from './codes.js';
import { dateOf } from './dates.js';
import { cptCode, keyOf } from './session.js';

export interface Targets {
  /** `Encounter/id` of every session to evaluate. */
  encounters: Set<string>;
  /** CPT-coded Procedures written without an encounter. */
  lone: Procedure[];
  /** Subjects that no longer exist (deleted): their findings close. */
  gone: string[];
}

const FINDING_SYSTEM = 'http://stride-fhir.org/fhir/CodeSystem/documentation-97116';

export async function findTargets(input: BotInput, ctx: BotContext): Promise<Targets> {
  const targets: Targets = { encounters: new Set(), lone: [], gone: [] };
  for (const resource of input.resources) await addTargets(resource, ctx, targets);
  for (const { key, previous } of input.deleted) {
    targets.gone.push(key);
    if (previous) await addTargets(previous, ctx, targets, true);
  }
  return targets;
}

async function addTargets(resource: Resource, ctx: BotContext, t: Targets, deleted = false): Promise<void> {
  const add = (ref: string | undefined) => ref && t.encounters.add(ref);
  switch (resource.resourceType) {
    case 'Encounter':
      if (!deleted) add(keyOf(resource));
      return;
    case 'Procedure': {
      const encounter = referenceKey(resource.encounter);
      if (encounter) add(encounter);
      else if (!deleted && cptCode(resource)) t.lone.push(resource);
      return;
    }
    case 'Observation':
      return observationTargets(resource, ctx, t);
    case 'Provenance':
      for (const target of (resource as Provenance).target ?? []) if (referenceKey(target)?.startsWith('Encounter/')) add(referenceKey(target));
      return;
    case 'DocumentReference':
      return reportTargets(resource, ctx, t);
    case 'CarePlan':
      return planTargets(keyOf(resource), ctx, t);
    case 'Goal':
      for (const plan of await ctx.search<CarePlan>('CarePlan', { goal: keyOf(resource) })) await planTargets(keyOf(plan), ctx, t);
      return;
  }
}

/** An outcome measure belongs to its session; a prior level of function to the patient's sessions that lacked it. */
async function observationTargets(observation: Observation, ctx: BotContext, t: Targets): Promise<void> {
  const encounter = referenceKey(observation.encounter);
  if (encounter) t.encounters.add(encounter);
  const priorLevel = observation.code?.coding?.some((c) => c.system === SYSTEMS.loinc && PRIOR_LEVEL_CODES.includes(c.code ?? ''));
  const patient = referenceKey(observation.subject);
  if (!priorLevel || !patient) return;
  // R4 has no DetectedIssue status search parameter: open ones are picked here.
  const found = await ctx.search<DetectedIssue>('DetectedIssue', { patient, code: `${FINDING_SYSTEM}|c4-prior-level-of-function` });
  for (const issue of found.filter((i) => i.status === 'final')) {
    for (const ref of issue.implicated ?? []) if (referenceKey(ref)?.startsWith('Encounter/')) t.encounters.add(referenceKey(ref) as string);
  }
}

/** A progress report concerns the sessions of its episode from its date on (the count restarts there). */
async function reportTargets(report: DocumentReference, ctx: BotContext, t: Targets): Promise<void> {
  const from = dateOf(report.date);
  for (const ref of report.context?.encounter ?? []) {
    const key = referenceKey(ref);
    if (key?.startsWith('Encounter/')) t.encounters.add(key);
    if (!key?.startsWith('EpisodeOfCare/')) continue;
    const params: Record<string, string> = { 'episode-of-care': key };
    if (from) params.date = `ge${from}`;
    for (const encounter of await ctx.search<Encounter>('Encounter', params)) t.encounters.add(keyOf(encounter));
  }
}

/** A plan of care concerns every session whose services are based on it. */
async function planTargets(plan: string, ctx: BotContext, t: Targets): Promise<void> {
  for (const procedure of await ctx.search<Procedure>('Procedure', { 'based-on': plan })) {
    const encounter = referenceKey(procedure.encounter);
    if (encounter) t.encounters.add(encounter);
    else if (cptCode(procedure)) t.lone.push(procedure);
  }
}
