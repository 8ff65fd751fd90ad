/**
 * What happens when a bot fails (DESIGN §6: a bot's bug must not lose the client's data). The write commits without
 * that bot's actions; the failure is
 * - returned: a warning issue on each resource that triggered the bot, saying how to re-run it;
 * - logged: one error line with the bot, the resources and the stack;
 * - kept: an AuditEvent (outcome 8, serious failure) committed with the write, so `GET AuditEvent?outcome=8` lists
 *   the failed runs to re-run with `POST [type]/[id]/$run-bots`.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Logger } from 'pino';
import type { Repository } from '../repo/repository.js';
import { addIssue } from './actions.js';
import { BOT_IDENTIFIER_SYSTEM } from './findings.js';
import { insertOwnAuditEvent } from '../auth/audit-store.js';

export interface FailureOptions {
  tx: Repository;
  botId: string;
  /** `Type/id` -> version of the resources the bot was run for. */
  triggered: ReadonlyMap<string, number>;
  /** More resources to report the failure on (the client's, when a bot failed on another bot's output). */
  also?: readonly string[];
  error: unknown;
  logger: Logger;
  now: Date;
}

export async function recordFailure(options: FailureOptions): Promise<void> {
  const { tx, botId, triggered, also = [], error, logger, now } = options;
  const message = errorMessage(error);
  const keys = [...triggered.keys()];
  logger.error({ bot: botId, resources: keys, err: error }, `bot ${botId} failed; the write was kept without its actions`);
  const issue = {
    severity: 'warning' as const,
    code: 'exception' as const,
    details: { text: `Bot ${botId} failed on this write (${message}). The write was saved without the bot's actions: re-run the bots with POST [base]/${keys[0]}/$run-bots.` },
    diagnostics: `bot ${botId}; resources: ${keys.join(', ')}`,
  };
  for (const key of new Set([...keys, ...also])) addIssue(tx, key, issue);
  const audit: AuditEvent = {
    resourceType: 'AuditEvent',
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/bot-event', code: 'bot-run', display: 'Bot run' }],
    action: 'E',
    recorded: now.toISOString(),
    outcome: '8',
    outcomeDesc: `Bot ${botId} failed: ${message}`.slice(0, 1000),
    agent: [{ who: { identifier: { system: BOT_IDENTIFIER_SYSTEM, value: botId }, display: `Stride bot ${botId}` }, requestor: false }],
    source: { observer: { display: 'Stride' } },
    entity: [...triggered].map(([key, version]) => ({ what: { reference: `${key}/_history/${version}` } })),
  };
  // In the audit trail's table (src/auth/audit-store.ts), in the write's transaction. Its shape is fixed here and
  // validated by test/bots/runtime.test.ts.
  await insertOwnAuditEvent(tx.db, audit);
}

function errorMessage(error: unknown): string {
  if (error instanceof OperationOutcomeError) return error.outcome.issue?.map((i) => i.details?.text ?? i.diagnostics).join('; ') || error.message;
  return error instanceof Error ? error.message : String(error);
}
