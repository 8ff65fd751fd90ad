/**
 * `stride validate FILE... [--profile URL]`: validates resources offline with the server's own validator (no
 * database): JSON files (a Bundle is validated as a whole, its entries' meta.profile included) and NDJSON, one
 * resource a line. Prints each issue with its location and exits 1 when any file has an error.
 */
import fs from 'node:fs';
import type { OperationOutcomeIssue, Resource } from '@medplum/fhirtypes';
import { loadConfig } from '../config.js';
import { createValidator, hasErrors, type Validator } from '../validation/validator.js';

export interface ValidateCommandOptions {
  profile?: string[];
}

interface Tally {
  resources: number;
  errors: number;
  warnings: number;
  failedFiles: number;
}

export function validateCommand(files: string[], options: ValidateCommandOptions): number {
  const config = loadConfig();
  const validator = createValidator({ profilesDir: config.profilesDir, extensionDomains: config.extensionDomains });
  const tally: Tally = { resources: 0, errors: 0, warnings: 0, failedFiles: 0 };
  for (const file of files) {
    const failed = validateFile(validator, file, options.profile ?? [], tally);
    if (failed) tally.failedFiles++;
  }
  const s = (n: number, word: string): string => `${n} ${word}${n === 1 ? '' : 's'}`;
  process.stdout.write(`\n${s(files.length, 'file')}, ${s(tally.resources, 'resource')}: ${s(tally.errors, 'error')}, ${s(tally.warnings, 'warning')}\n`);
  return tally.failedFiles > 0 ? 1 : 0;
}

/** Returns true when the file has an error (or cannot be read). */
function validateFile(validator: Validator, file: string, profiles: string[], tally: Tally): boolean {
  let resources: Array<{ resource: unknown; where: string }>;
  try {
    resources = readResources(file);
  } catch (err) {
    process.stdout.write(`${file}\n  error    ${(err as Error).message}\n`);
    tally.errors++;
    return true;
  }
  let failed = false;
  process.stdout.write(`${file}\n`);
  for (const { resource, where } of resources) {
    tally.resources++;
    const issues = issuesOf(validator, resource, profiles);
    for (const i of issues) {
      if (i.severity === 'error' || i.severity === 'fatal') tally.errors++;
      if (i.severity === 'warning') tally.warnings++;
      process.stdout.write(`  ${where}${formatIssue(i)}\n`);
    }
    if (hasErrors(issues)) failed = true;
  }
  if (!failed) process.stdout.write(`  ok\n`);
  return failed;
}

function issuesOf(validator: Validator, resource: unknown, profiles: string[]): OperationOutcomeIssue[] {
  const type = (resource as { resourceType?: unknown })?.resourceType;
  if (!resource || typeof resource !== 'object' || Array.isArray(resource) || typeof type !== 'string') {
    return [{ severity: 'error', code: 'invalid', details: { text: 'not a FHIR resource: a JSON object with "resourceType" is expected' } }];
  }
  return validator.validate(resource as Resource, { profiles, purpose: 'validate' });
}

function readResources(file: string): Array<{ resource: unknown; where: string }> {
  const text = fs.readFileSync(file, 'utf8');
  if (/\.ndjson$/i.test(file)) {
    return text
      .split('\n')
      .map((line, i) => ({ line, where: `line ${i + 1}: ` }))
      .filter(({ line }) => line.trim() !== '')
      .map(({ line, where }) => ({ resource: parseJson(line, where), where }));
  }
  return [{ resource: parseJson(text, ''), where: '' }];
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw new Error(`${where}not valid JSON: ${(err as Error).message}`);
  }
}

/** `error    Procedure.code  97161 is not in ...`: severity, location, then the message without the location. */
function formatIssue(i: OperationOutcomeIssue): string {
  const where = i.expression?.[0] ?? '';
  let text = i.details?.text ?? i.diagnostics ?? '';
  if (where && text.startsWith(`${where}: `)) text = text.slice(where.length + 2);
  return `${i.severity.padEnd(8)} ${where ? `${where}  ` : ''}${text}`;
}
