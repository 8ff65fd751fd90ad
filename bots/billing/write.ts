/**
 * How the billing bot writes: generated Claims and ChargeItems get ids derived from their billing keys, so a re-run
 * (another write to a session of the date, a retried transaction, two processes) updates them and never adds a second
 * one; a resource is written only when it changed; billing findings become bot findings on the right subjects.
 */
import { createHash } from 'node:crypto';
import type { ChargeItem, Claim, ClaimResponse, Resource } from '@medplum/fhirtypes';
import { referenceKey, type BotContext, type Finding, type Upsert } from '../../src/bots/index.js';
import type { BillingFinding } from '../../src/billing/findings.js';
import type { ServiceFact } from '../../src/billing/session.js';
import { SYSTEMS } from '../../src/billing/codes.js';
import { SUBMISSION_EXTENSION, canonicalJson, deriveStage, isCycleExtension, withStage } from '../../src/billing/stage.js';
import { ruleFor } from './rules.js';

export interface SessionBilling {
  upserts: Upsert[];
  /** Subjects whose billing findings are reconciled: exactly `findings` stay open on them. */
  subjects: string[];
  findings: Finding[];
}

/**
 * Billing findings as bot findings: scrub-* findings are about the Claim (the date's first session when there is
 * none), the others about each session they concern: the sessions they name, or whose procedures they name, else
 * every session of the date. Findings of one rule on one subject (two lines with bad units) become one, their
 * details joined: a DetectedIssue per rule and subject.
 */
export function toFindings(items: readonly BillingFinding[], encounterRefs: readonly string[], services: readonly ServiceFact[], claimKey: string | null, patient: string | null): Finding[] {
  const merged = new Map<string, Finding>();
  const encounterOf = new Map(services.map((s) => [s.ref, s.encounterRef]));
  for (const f of items) {
    const rule = ruleFor(f.ruleId);
    const detail = rule === f.ruleId ? f.message : `${f.ruleId}: ${f.message}`;
    const implicated = (f.implicated ?? []).map((r) => referenceKey(r)).filter((r): r is string => r !== undefined);
    const named = [...new Set((f.implicated ?? []).map((r) => (encounterRefs.includes(r) ? r : encounterOf.get(r))).filter((r): r is string => r !== undefined))];
    const subjects = rule.startsWith('scrub-') && claimKey ? [claimKey] : named.length ? named : encounterRefs.slice(0, rule.startsWith('scrub-') ? 1 : undefined);
    for (const subject of subjects) {
      const id = `${rule}|${subject}`;
      const open = merged.get(id);
      if (open) {
        if (!open.detail.includes(detail)) open.detail = `${open.detail} ${detail}`;
        open.implicated = [...new Set([...open.implicated, ...implicated])].filter((r) => r !== subject);
        open.expression = [...new Set([...(open.expression ?? []), ...f.expression])];
      } else {
        const others = [...(claimKey && subject !== claimKey ? [claimKey] : []), ...(subject === claimKey ? encounterRefs : []), ...implicated];
        merged.set(id, { rule, subject, detail, implicated: [...new Set(others)].filter((r) => r !== subject), expression: [...f.expression], ...(patient ? { patient } : {}) });
      }
    }
  }
  return [...merged.values()];
}

/** A FHIR id from a billing key: `claim-`/`charge-` and 40 hex digits of its SHA-256. */
export function generatedId(kind: 'claim' | 'charge', key: string): string {
  return `${kind}-${createHash('sha256').update(key).digest('hex').slice(0, 40)}`;
}

export function billingKeyOf(resource: ChargeItem | Claim): string {
  return resource.identifier?.find((i) => i.system === SYSTEMS.billingKey)?.value ?? '';
}

/**
 * A Claim billing built, with its cycle carried over from the stored version (the sendings recorded by $submit) and
 * its stage derived again (src/billing/stage.ts) from it and the ClaimResponses that answer it.
 */
export function withCycle(built: Claim, stored: Claim | undefined, responses: readonly ClaimResponse[]): Claim {
  const sendings = (stored?.extension ?? []).filter((e) => e.url === SUBMISSION_EXTENSION);
  const claim = sendings.length ? { ...built, extension: [...(built.extension ?? []).filter((e) => !isCycleExtension(e)), ...sendings] } : built;
  const answers = responses.filter((r) => r.request?.reference === `Claim/${built.id}`);
  return withStage(claim, deriveStage(claim, answers));
}

/** Adds the upsert unless the stored version already says the same (ignoring meta), so a re-run writes nothing. */
export async function upsertIfChanged(resource: Claim | ChargeItem, sources: Resource[], ctx: BotContext, upserts: Upsert[]): Promise<void> {
  const stored = await ctx.read(`${resource.resourceType}/${resource.id}`);
  if (stored && canonicalJson(withoutMeta(stored)) === canonicalJson(withoutMeta(resource))) return;
  upserts.push({ resource, sources });
}

/** The resource without its version and timestamp (meta keeps only the profiles it claims). */
export function withoutMeta<T extends Resource>(resource: T): T {
  const { meta, ...rest } = resource;
  const profile = meta?.profile;
  return (profile ? { ...rest, meta: { profile } } : rest) as T;
}

