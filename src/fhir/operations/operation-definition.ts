/**
 * GET [base]/OperationDefinition/[id]: the definitions of the operations Stride serves are readable where
 * /metadata names them, whether or not the database holds them; any other id is read from the database as usual.
 */
import type { FhirHandler } from '../types.js';
import { read } from '../read.js';
import { EXPORT_OPERATION_DEFINITIONS } from './export-definitions.js';

const BUILT_IN = new Map(EXPORT_OPERATION_DEFINITIONS.map((d) => [d.id as string, d]));

export const readOperationDefinition: FhirHandler = async (req, ctx, params) => {
  const builtIn = BUILT_IN.get(params.id);
  if (builtIn) return { status: 200, resource: builtIn };
  return read(req, ctx, { ...params, type: 'OperationDefinition' });
};
