/**
 * A therapy session as the rules see it (profiles/README.md §2-§3): the Encounter, its CPT-coded Procedures, its
 * Observations and signatures, the plans of care the Procedures are based on, and the payer policy. What only some
 * rules need (the episode's sessions, progress reports, prior level of function) is read when first asked for.
 */
import type { CarePlan, Condition, Coverage, Encounter, Goal, Observation, Organization, Procedure, Provenance, Resource } from '@medplum/fhirtypes';
import type { BotContext, Policy } from '../../src/bots/index.js';
import { referenceKey } from '../../src/bots/index.js';
import { SYSTEMS, TIMED_CODES } from './codes.js';
import { dateOf } from './dates.js';

export interface Session {
  /** `Encounter/id`; undefined for a Procedure written without an encounter. */
  encounterKey?: string;
  encounter?: Encounter;
  /** Every CPT-coded Procedure of the session (all are finding subjects). */
  procedures: Procedure[];
  /** The completed timed ones: the services the rules document. */
  timed: Procedure[];
  observations: Observation[];
  /** Provenance resources targeting the Encounter with a signature. */
  signatures: Provenance[];
  patientKey?: string;
  /** Date of service, YYYY-MM-DD as written (guide §3: performedPeriod.start, else Encounter.period.start). */
  date?: string;
  plans: Map<string, CarePlan>;
  goals: Map<string, Goal>;
  /**
   * The payer policy the rules read. Rules that name `policyFields` are first evaluated under the policies that differ
   * in those fields; only when one finds a problem and the policies disagree is the patient's Coverage read to pick
   * the one that applies (evaluate.ts).
   */
  policy: Policy;
  ctx: BotContext;
  /** Memoised lookups for the episode-level rules. */
  memo: Map<string, Promise<unknown>>;
}

export function keyOf(resource: Resource): string {
  return `${resource.resourceType}/${resource.id}`;
}

export function cptCode(procedure: Procedure): string | undefined {
  return procedure.code?.coding?.find((c) => c.system === SYSTEMS.cpt)?.code;
}

export function isTimedService(procedure: Procedure): boolean {
  const code = cptCode(procedure);
  return procedure.status === 'completed' && !!code && TIMED_CODES.includes(code);
}

export async function loadSession(encounterKey: string, ctx: BotContext): Promise<Session> {
  const encounter = await ctx.read<Encounter>(encounterKey);
  const [procedures, observations, provenances] = ctx.isNew(encounterKey)
    ? // A session created by this write (the usual transaction): what references it was written with it.
      [
        ctx.changed<Procedure>('Procedure').filter((p) => referenceKey(p.encounter) === encounterKey),
        ctx.changed<Observation>('Observation').filter((o) => referenceKey(o.encounter) === encounterKey),
        ctx.changed<Provenance>('Provenance').filter((p) => p.target?.some((t) => referenceKey(t) === encounterKey)),
      ]
    : await Promise.all([
        ctx.search<Procedure>('Procedure', { encounter: encounterKey }),
        ctx.search<Observation>('Observation', { encounter: encounterKey }),
        ctx.search<Provenance>('Provenance', { target: encounterKey }),
      ]);
  return buildSession(ctx, encounter, procedures.filter((p) => !!cptCode(p)), observations, provenances.filter((p) => p.signature?.length));
}

/** A Procedure written without an encounter: only its own rules can run. */
export async function loadLoneProcedure(procedure: Procedure, ctx: BotContext): Promise<Session> {
  return buildSession(ctx, undefined, [procedure], [], []);
}

async function buildSession(ctx: BotContext, encounter: Encounter | undefined, procedures: Procedure[], observations: Observation[], signatures: Provenance[]): Promise<Session> {
  // The plans and goals, diagnoses, performers and their roles, the episode: two statements instead of one per read.
  await ctx.prefetch([...(encounter ? [encounter] : []), ...procedures, ...observations, ...signatures]);
  const timed = procedures.filter(isTimedService);
  const patientKey = referenceKey(encounter?.subject) ?? timed.map((p) => referenceKey(p.subject)).find(Boolean);
  const date = dateOf(encounter?.period?.start) ?? timed.map((p) => dateOf(p.performedPeriod?.start ?? p.performedDateTime)).find(Boolean);
  const plans = new Map<string, CarePlan>();
  for (const ref of timed.flatMap((p) => p.basedOn ?? [])) {
    const key = referenceKey(ref);
    if (!key?.startsWith('CarePlan/') || plans.has(key)) continue;
    const plan = await ctx.read<CarePlan>(key);
    if (plan) plans.set(key, plan);
  }
  const goals = new Map<string, Goal>();
  for (const ref of [...plans.values()].flatMap((p) => p.goal ?? [])) {
    const key = referenceKey(ref);
    const goal = key && !goals.has(key) ? await ctx.read<Goal>(key) : undefined;
    if (key && goal) goals.set(key, goal);
  }
  const policy = ctx.policies.fallback;
  return { encounterKey: encounter ? keyOf(encounter) : undefined, encounter, procedures, timed, observations, signatures, patientKey, date, plans, goals, policy, ctx, memo: new Map() };
}

/** The payer policy that applies to the session (read once, only when rules under different policies disagree). */
export function applicablePolicy(session: Session): Promise<Policy> {
  return memo(session, 'policy', () => selectPolicy(session.ctx, session.patientKey, session.date));
}

/** Guide §3.3: the patient's active Coverage covering the date of service (lowest order first) picks the policy. */
async function selectPolicy(ctx: BotContext, patientKey: string | undefined, date: string | undefined): Promise<Policy> {
  if (!patientKey) return ctx.policies.fallback;
  const coverages = (await ctx.search<Coverage>('Coverage', { beneficiary: patientKey, status: 'active' }))
    .filter((c) => !date || ((!c.period?.start || c.period.start.slice(0, 10) <= date) && (!c.period?.end || c.period.end.slice(0, 10) >= date)))
    .sort((a, b) => (a.order ?? Number.MAX_SAFE_INTEGER) - (b.order ?? Number.MAX_SAFE_INTEGER));
  const coverage = coverages[0];
  const payer = coverage && ctx.policies.matchesPayers ? await ctx.read<Organization>(coverage.payor?.[0]) : undefined;
  return ctx.policies.select(coverage, payer?.resourceType === 'Organization' ? payer : undefined);
}

/** Runs `load` once per session for `name` (several rules ask the same question). */
export function memo<T>(session: Session, name: string, load: () => Promise<T>): Promise<T> {
  let value = session.memo.get(name) as Promise<T> | undefined;
  if (!value) {
    value = load();
    session.memo.set(name, value);
  }
  return value;
}

/** The diagnoses of a Procedure (guide §3): its reasonReference Conditions, else the Encounter's by rank. */
export function diagnosesOf(procedure: Procedure, session: Session): Promise<Condition[]> {
  return memo(session, `diagnoses:${procedure.id}`, async () => {
    const own = await readAll<Condition>(session.ctx, (procedure.reasonReference ?? []).map((r) => r.reference));
    if (own.length || procedure.reasonReference?.length) return own;
    const ranked = [...(session.encounter?.diagnosis ?? [])].sort((a, b) => (a.rank ?? 99) - (b.rank ?? 99));
    return readAll<Condition>(session.ctx, ranked.map((d) => d.condition?.reference));
  });
}

export async function readAll<T extends Resource>(ctx: BotContext, refs: Array<string | undefined>): Promise<T[]> {
  const out: T[] = [];
  for (const ref of refs) {
    const resource = await ctx.read<T>(ref);
    if (resource) out.push(resource);
  }
  return out;
}
