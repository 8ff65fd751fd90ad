/**
 * Applies a bot's actions through the repository (DESIGN §6): every resource it generates is validated, indexed and
 * versioned like a client's, and gets a Provenance naming the bot and the exact source versions.
 */
import type { OperationOutcomeIssue, Provenance, Resource } from '@medplum/fhirtypes';
import type { Repository } from '../repo/repository.js';
import type { Bot, BotActions } from './types.js';
import type { ReadOnlyContext } from './context.js';
import { BOT_IDENTIFIER_SYSTEM, findingIssue, reconcile } from './findings.js';

/** A bot broke its contract (an unknown rule, a malformed subject): its bug, recorded like a throw. */
export class BotContractError extends Error {}

export interface ApplyOptions {
  tx: Repository;
  bot: Bot;
  ctx: ReadOnlyContext;
  /** `Type/id` of the resources that triggered this run. */
  triggered: readonly string[];
  /** `Type/id` of everything the write changed before this bot ran: findings are reported on those. */
  changed: ReadonlySet<string>;
  now: Date;
}

export async function applyActions(actions: BotActions, options: ApplyOptions): Promise<void> {
  checkActions(actions, options.bot);
  if (actions.findings) await applyFindings(actions.findings, options);
  for (const upsert of actions.upserts ?? []) await writeGenerated(upsert.resource, upsert.sources, options, false, upsert.reason);
  for (const { about, issue } of actions.issues ?? []) addIssue(options.tx, about, issue);
}

/** Everything that can be checked before the first write, so that a contract error leaves nothing half-applied. */
function checkActions(actions: BotActions, bot: Bot): void {
  const rules = new Set(bot.rules.map((r) => r.id));
  const key = /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/;
  for (const subject of actions.findings?.subjects ?? []) {
    if (!key.test(subject)) throw new BotContractError(`finding subject "${subject}" is not Type/id`);
  }
  for (const f of actions.findings?.items ?? []) {
    if (!rules.has(f.rule)) throw new BotContractError(`finding of unknown rule "${f.rule}"`);
    if (!key.test(f.subject)) throw new BotContractError(`finding subject "${f.subject}" is not Type/id`);
  }
  for (const u of actions.upserts ?? []) {
    if (!u.resource?.resourceType) throw new BotContractError('an upsert without a resource');
  }
}

async function applyFindings(findings: NonNullable<BotActions['findings']>, options: ApplyOptions): Promise<void> {
  const { tx, bot, now } = options;
  const reconciled = await reconcile(tx, bot, findings.subjects, findings.items, now, (key) => options.ctx.isNew(key));
  for (const write of reconciled.writes) {
    const sources = write.finding ? [write.finding.subject, ...write.finding.implicated] : (write.resource.implicated ?? []).map((r) => r.reference as string);
    await writeGenerated(write.resource, sources, options, write.unread);
  }
  for (const { finding, rule, id } of reconciled.open) {
    const issue = findingIssue(bot, rule, finding, id);
    const about = [finding.subject, ...finding.implicated].filter((k) => options.changed.has(k));
    for (const key of about.length ? new Set(about) : options.triggered) addIssue(tx, key, issue);
  }
}

/**
 * Creates (no id) or upserts (id) a generated resource, then its Provenance (R4 provenance.html). `expectNew`: the
 * id is not expected to exist yet (a new subject's finding): inserted without a read first (Repository.update).
 */
async function writeGenerated(resource: Resource, sources: ReadonlyArray<string | Resource>, options: ApplyOptions, expectNew = false, reason?: string): Promise<void> {
  const { tx, bot, ctx, now } = options;
  const result = resource.id ? await tx.update(resource, { expectNew }) : await tx.create(resource);
  const { resourceType, id, versionId } = result.stored;
  const entity = [...new Set(sources.map((s) => sourceReference(s, ctx)))].map((reference) => ({ role: 'source' as const, what: { reference } }));
  const provenance: Provenance = {
    resourceType: 'Provenance',
    target: [{ reference: `${resourceType}/${id}/_history/${versionId}` }],
    recorded: now.toISOString(),
    activity: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-DataOperation', code: versionId === 1 ? 'CREATE' : 'UPDATE' }] },
    agent: [
      {
        type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/provenance-participant-type', code: 'assembler', display: 'Assembler' }] },
        who: { identifier: { system: BOT_IDENTIFIER_SYSTEM, value: bot.id }, display: `Stride bot ${bot.id}` },
      },
    ],
  };
  if (entity.length) provenance.entity = entity;
  if (reason) provenance.reason = [{ text: reason }];
  await tx.create(provenance);
}

/** `Type/id/_history/n` for the version the bot saw; a plain `Type/id` when it saw none. */
function sourceReference(source: string | Resource, ctx: ReadOnlyContext): string {
  if (typeof source !== 'string') {
    const key = `${source.resourceType}/${source.id}`;
    const version = source.meta?.versionId ?? ctx.versionOf(key);
    return version ? `${key}/_history/${version}` : key;
  }
  const version = ctx.versionOf(source);
  return version ? `${source}/_history/${version}` : source;
}

export function addIssue(tx: Repository, key: string, issue: OperationOutcomeIssue): void {
  const list = tx.findings.get(key);
  if (!list) tx.findings.set(key, [issue]);
  else if (!list.includes(issue)) list.push(issue);
}
