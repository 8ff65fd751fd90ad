/**
 * Scheduled jobs (issue 28, Show): a statement run for 10,000 patients with balances (`--quick`: 1,000), then their
 * statements emailed, each with its PDF, to an SMTP server in the bench process (smtp-server; messages read and
 * counted, not parsed). Each job runs as `stride jobs run NAME` in a child process, as a clinic's cron or an operator
 * would: wall time, throughput and the child's peak memory. Data: generated claims and remittances (claims-data.ts)
 * written straight through a Repository with the money ledger kept, patients given an email address.
 */
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Patient, Resource } from '@medplum/fhirtypes';
import { startSmtp } from './smtp.js';
import { peakMemoryFigure, rssMb, serverNodeFlags, type BenchContext, type BenchModule, type Figure } from './harness.js';
import { generate } from './claims-data.js';
import { loadConfig } from '../../src/config.js';
import { openStore } from '../../src/storage/open.js';
import { Repository } from '../../src/repo/repository.js';
import { createSearcher } from '../../src/search/searcher.js';
import { createIndexer } from '../../src/search/indexer.js';
import { MoneyLedger } from '../../src/money/hook.js';
import type { Validator } from '../../src/validation/validator.js';
import { sql } from '../../src/sql/sql.js';

const DIST = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const NO_VALIDATION: Validator = { validate: () => [], check: () => ({ issues: [], invalidFhir: false, profileErrors: false }), guide: undefined as unknown as Validator['guide'] };
const PATIENTS_PER_CHUNK = 1000;

const input = (code: string, valueString: string) => ({ type: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/job-input', code }] }, valueString });
const jobTask = (name: string, kind: string): Resource =>
  ({
    resourceType: 'Task',
    identifier: [{ system: 'http://stride-fhir.org/fhir/sid/job', value: name }],
    status: 'ready',
    intent: 'plan',
    code: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/job', code: kind }] },
    input: [input('cron', '0 6 * * *'), input('time-zone', 'America/New_York')],
  }) as Resource;

/** Patients, claims and remittances until `owing` patients owe something; every patient has an email address. */
async function load(ctx: BenchContext, env: Record<string, string>, owing: number): Promise<{ patients: number; resources: number; seconds: number }> {
  const store = await openStore(loadConfig({ ...env, STRIDE_LOG_LEVEL: 'silent' }));
  await store.migrate();
  const repo = new Repository({ store, validator: NO_VALIDATION, searcher: createSearcher(), indexer: createIndexer(store.dialect), hook: new MoneyLedger() });
  const started = performance.now();
  let resources = 0;
  let patients = 0;
  try {
    for (let k = 0; patients < owing; k++) {
      const data = generate({ claims: PATIENTS_PER_CHUNK * 3, patients: PATIENTS_PER_CHUNK, seed: 2800 + k, prefix: `j${k}-`, sharedPrefix: 'j-', days: 120 });
      for (const r of data.shared) if (r.resourceType === 'Patient') (r as Patient).telecom = [{ system: 'email', value: `${r.id}@patients.example.org` }];
      const all: Resource[] = [...(k === 0 ? [...data.shared, jobTask('statements-issue', 'statement-run'), jobTask('statements-send', 'send-statements')] : data.shared.filter((r) => r.resourceType !== 'Organization')), ...data.claims, ...data.responses];
      for (let i = 0; i < all.length; i += 1000) {
        await repo.transaction(async (tx) => {
          for (const r of all.slice(i, i + 1000)) await (r.id ? tx.update(r, { expectNew: true }) : tx.create(r));
        });
      }
      resources += all.length;
      const row = await store.reader.get<{ n: number | string }>(sql`SELECT COUNT(DISTINCT patient) AS n FROM money_claim WHERE patient_balance > 0`);
      patients = Number(row?.n ?? 0);
      ctx.log(`jobs data: ${resources} resources, ${patients} patients owing`);
    }
    await store.analyze();
  } finally {
    await store.close();
  }
  return { patients, resources, seconds: (performance.now() - started) / 1000 };
}

/** `stride jobs ...` in a child process: its wall time, its peak resident memory (sampled every 20 ms), its output. */
async function runJob(env: Record<string, string>, ...args: string[]): Promise<{ seconds: number; peakMb: number; output: string }> {
  const started = performance.now();
  const child = spawn(process.execPath, [...serverNodeFlags(), path.join(DIST, 'src/cli/main.js'), 'jobs', ...args], { env: { ...process.env, STRIDE_LOG_LEVEL: 'warn', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  let output = '';
  child.stdout!.on('data', (d) => (output += d));
  let peakMb = 0;
  const timer = setInterval(() => (peakMb = Math.max(peakMb, rssMb(child.pid) || 0)), 20);
  const code = await new Promise<number | null>((resolve) => child.once('exit', resolve));
  clearInterval(timer);
  if (code !== 0) throw new Error(`jobs bench: stride jobs ${args.join(' ')} exited ${code}: ${output}`);
  return { seconds: (performance.now() - started) / 1000, peakMb, output: output.trim() };
}

export const jobsBench: BenchModule = {
  name: 'jobs',
  async run(ctx) {
    const owing = ctx.quick ? 1_000 : 10_000;
    const db = await ctx.freshDatabase();
    const smtp = await startSmtp({ parse: false });
    try {
      const loaded = await load(ctx, db.env, owing);
      ctx.log(`jobs data: ${loaded.resources} resources in ${loaded.seconds.toFixed(0)} s; ${loaded.patients} patients owe`);
      const env = { ...db.env, STRIDE_SMTP_URL: smtp.url };
      // The same command doing nearly nothing: what a Stride process holds before any work (definitions, bots ...).
      const base = await runJob(env, 'list');
      const issue = await runJob(env, 'run', 'statements-issue');
      ctx.log(`jobs: ${issue.output}`);
      const invoices = Number(/invoices-issued (\d+)/.exec(issue.output)?.[1] ?? NaN);
      const send = await runJob(env, 'run', 'statements-send');
      ctx.log(`jobs: ${send.output}`);
      const sent = smtp.count();
      // Target: a nightly window. 10,000 statements issued, and emailed, within 10 minutes each.
      const target = owing / 600;
      const figures: Figure[] = [
        { name: `statement run: ${invoices} Invoices issued (stride jobs run)`, value: invoices / issue.seconds, unit: 'patients/s', against: target, againstLabel: `${owing.toLocaleString('en-US')} in 10 minutes`, better: 'higher', note: `${issue.seconds.toFixed(1)} s; child peak memory ${issue.peakMb.toFixed(0)} MB` },
        peakMemoryFigure('statement run (stride jobs run)', issue.peakMb, base.peakMb),
        { name: `statements emailed: ${sent} messages with the PDF (SMTP in the bench process)`, value: sent / send.seconds, unit: 'messages/s', against: target, againstLabel: `${owing.toLocaleString('en-US')} in 10 minutes`, better: 'higher', note: `${send.seconds.toFixed(1)} s; ${(smtp.bytes() / 2 ** 20).toFixed(0)} MB of mail; child peak memory ${send.peakMb.toFixed(0)} MB` },
        peakMemoryFigure('statements emailed (stride jobs run)', send.peakMb, base.peakMb),
      ];
      if (sent !== invoices) throw new Error(`jobs bench: ${invoices} Invoices issued but ${sent} statements received by SMTP`);
      return figures;
    } finally {
      await smtp.close();
      await db.drop();
    }
  },
};
