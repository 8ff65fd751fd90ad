/** The `stride` command: serve | import (and later validate, reindex ...). */
import { Command } from 'commander';
import { serve } from './serve.js';
import { importCommand } from './import.js';
import { validateCommand } from './validate.js';
import { reindexCommand } from './reindex.js';
import { moneyRebuildCommand } from './money.js';
import { rebillCommand } from './rebill.js';
import { x12Command } from './x12.js';
import { dropViewsCommand, listViewsCommand, syncViewsCommand } from './views.js';
import { STRIDE_VERSION } from '../fhir/routes.js';
import { listJobsCommand, runJobCommand } from './jobs.js';
import { addClientCommand, disableClientCommand, listClientsCommand, type AddClientOptions } from './clients.js';

const program = new Command();
program.name('stride').description('Stride: a FHIR R4 server for rehabilitation therapy').version(STRIDE_VERSION);

program.command('serve').description('serve FHIR R4 at http://localhost:$STRIDE_PORT/fhir (default 8080)').action(serve);

program
  .command('import')
  .description('load transaction/batch Bundles (.json) and NDJSON files (.ndjson) into the database')
  .argument('<paths...>', 'files or directories')
  .action(async (paths: string[]) => {
    process.exitCode = await importCommand(paths);
  });

program
  .command('validate')
  .description('validate FHIR resources offline (JSON files, NDJSON): prints the issues, exits 1 on errors')
  .argument('<files...>', 'resource files (.json, .ndjson)')
  .option('--profile <url>', 'also validate against this profile (canonical url; repeatable)', (url: string, all: string[]) => [...all, url], [] as string[])
  .action((files: string[], options: { profile?: string[] }) => {
    process.exitCode = validateCommand(files, options);
  });

program
  .command('reindex')
  .description('rebuild the search index from the stored resources (all types, or those given)')
  .option('--type <types...>', 'only these resource types')
  .action(async (options: { type?: string[] }) => {
    process.exitCode = await reindexCommand(options);
  });

program
  .command('rebill')
  .description('bill again, by date of service, every therapy session since a date (replaces per-encounter Claims made before)')
  .requiredOption('--since <date>', 'sessions whose period starts on or after this date (YYYY-MM-DD)')
  .action(async (options: { since: string }) => {
    process.exitCode = await rebillCommand(options);
  });

program
  .command('x12')
  .description('process X12 files from a clearinghouse or payer (999, 277CA, 277), as POST $process-x12 does')
  .argument('<files...>', 'X12 files')
  .action(async (files: string[]) => {
    process.exitCode = await x12Command(files);
  });

program
  .command('money')
  .description('the money ledger: `stride money rebuild` posts every stored Claim, remittance and payment again')
  .argument('<action>', 'rebuild')
  .action(async (action: string) => {
    if (action !== 'rebuild') {
      process.stderr.write(`stride money: unknown action "${action}": the action is rebuild\n`);
      process.exitCode = 2;
      return;
    }
    process.exitCode = await moneyRebuildCommand();
  });

const views = program.command('views').description('materialised SQL on FHIR views: tables kept current on every write');
views
  .command('sync')
  .description('build (or rebuild) the table of each view named, or of every active stored ViewDefinition')
  .option('--view <ids...>', 'ViewDefinition ids')
  .action(async (options: { view?: string[] }) => {
    process.exitCode = await syncViewsCommand(options);
  });
views
  .command('list')
  .description('list the materialised views and their tables')
  .action(async () => {
    process.exitCode = await listViewsCommand();
  });
views
  .command('drop')
  .description('drop the tables of these views (the ViewDefinitions stay)')
  .requiredOption('--view <ids...>', 'ViewDefinition ids')
  .action(async (options: { view?: string[] }) => {
    process.exitCode = await dropViewsCommand(options);
  });

const clients = program.command('clients').description('SMART backend-services clients (stored in the database)');
clients
  .command('add')
  .description('register a client; prints its client_id')
  .requiredOption('--name <name>', 'what the client is')
  .requiredOption('--jwks <file|url>', 'its public keys: a JWKS file, or the https URL it publishes them at')
  .requiredOption('--scope <scopes>', 'the scopes it may be granted, e.g. "system/*.rs system/Claim.u"')
  .option('--patient <Patient/id>', 'bind it to one patient: patient/ scopes, that compartment only')
  .option('--json', 'print the client as JSON')
  .action(async (options: AddClientOptions) => {
    process.exitCode = await addClientCommand(options);
  });
clients
  .command('list')
  .description('list the clients')
  .option('--json', 'as JSON')
  .action(async (options: { json?: boolean }) => {
    process.exitCode = await listClientsCommand(options);
  });
clients
  .command('disable')
  .description('disable a client: no new tokens, and its tokens stop working')
  .argument('<client_id>')
  .action(async (id: string) => {
    process.exitCode = await disableClientCommand(id);
  });

const jobs = program.command('jobs').description('scheduled jobs: claim submission, statement runs, emailed statements and reminders (job Tasks)');
jobs
  .command('list')
  .description('list the jobs: schedule, next slot, last run')
  .option('--json', 'as JSON')
  .action(async (options: { json?: boolean }) => {
    process.exitCode = await listJobsCommand(options);
  });
jobs
  .command('run')
  .description('run a job now (or finish its interrupted run)')
  .argument('<name>', 'the job\'s name (its Task identifier)')
  .action(async (name: string) => {
    process.exitCode = await runJobCommand(name);
  });

program.parseAsync(process.argv).catch((err: unknown) => {
  process.stderr.write(`stride: ${(err as Error).message}\n`);
  process.exit(1);
});
