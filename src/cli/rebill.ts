/**
 * `stride rebill --since DATE`: bills again, under the current rules, every therapy session of the guide whose period
 * starts on or after DATE (issue 26 §4): the billing bot re-bills each session's dates of service, so Claims made per
 * encounter before billing went by date of service are replaced by the date's Claim and cancelled, with the reason in
 * their Provenance; nothing is deleted. Each session runs in its own transaction, as `$run-bots` would run it; a
 * session whose date was already re-billed through another session writes nothing more.
 */
import type { Claim } from '@medplum/fhirtypes';
import { loadConfig } from '../config.js';
import { openStride } from '../stride.js';
import { botRunnerOf } from '../bots/open.js';
import { toStored } from '../repo/repository.js';
import { SESSION_ENCOUNTER_PROFILE } from '../billing/codes.js';

export interface RebillOptions {
  since: string;
}

const PAGE = 200;

export interface RebillSummary {
  sessions: number;
  created: number;
  updated: number;
  cancelled: number;
  failed: string[];
}

export async function rebillCommand(options: RebillOptions): Promise<number> {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(options.since) || Number.isNaN(Date.parse(options.since))) {
    process.stderr.write(`stride rebill: --since takes a date, YYYY-MM-DD (got "${options.since}")\n`);
    return 2;
  }
  const config = loadConfig();
  const stride = await openStride(config);
  try {
    const runner = botRunnerOf(stride.repo);
    if (!runner?.bots.some((b) => b.id === 'billing')) {
      process.stderr.write('stride rebill: the billing bot is not loaded (STRIDE_BOTS_DIR): nothing can be billed\n');
      return 2;
    }
    const summary: RebillSummary = { sessions: 0, created: 0, updated: 0, cancelled: 0, failed: [] };
    const tty = process.stderr.isTTY;
    for (let offset = 0; ; offset += PAGE) {
      const page = await stride.repo.search({ resourceType: 'Encounter', params: { _profile: [SESSION_ENCOUNTER_PROFILE], date: [`ge${options.since}`], _sort: ['_id'] }, count: PAGE, offset, total: 'none' });
      for (const row of page.rows) {
        const key = `Encounter/${row.id}`;
        try {
          const changes = await stride.repo.transaction(async (tx) => {
            await runner.rerun(tx, [toStored(row)]);
            return tx.changes.filter((c) => c.resourceType === 'Claim');
          });
          summary.sessions += 1;
          // A Claim may change twice in one run (created, then updated): counted once, by its last version.
          const byId = new Map(changes.map((c) => [c.id, { first: changes.find((x) => x.id === c.id)!.versionId, last: c }]));
          for (const { first, last } of byId.values()) {
            if ((last.resource as Claim | undefined)?.status === 'cancelled') summary.cancelled += 1;
            else if (first === 1) summary.created += 1;
            else summary.updated += 1;
          }
        } catch (err) {
          summary.failed.push(`${key}: ${(err as Error).message}`);
        }
        if (tty) process.stderr.write(`\rre-billing: ${summary.sessions} sessions   `);
      }
      if (page.rows.length < PAGE) break;
    }
    if (tty) process.stderr.write('\n');
    process.stdout.write(
      `Re-billed ${summary.sessions} session(s) since ${options.since}: ${summary.created} Claim(s) created, ${summary.updated} updated, ${summary.cancelled} cancelled (superseded or nothing left to bill)\n`,
    );
    for (const failure of summary.failed) process.stdout.write(`  failed: ${failure}\n`);
    return summary.failed.length > 0 ? 1 : 0;
  } finally {
    await stride.close();
  }
}
