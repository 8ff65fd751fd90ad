/**
 * The inputs of $validate (R4 resource-operation-validate.html): a bare resource, or Parameters with `resource`,
 * `mode` and `profile`; `mode` and `profile` may also come in the query. A request that cannot be read is a 400;
 * problems with the resource itself are answered as issues.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Parameters, ParametersParameter, Resource } from '@medplum/fhirtypes';
import type { FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';
import { requireResource } from '../body.js';

export const VALIDATE_MODES = ['create', 'update', 'delete'] as const;
export type ValidateMode = (typeof VALIDATE_MODES)[number];

export interface ValidateInput {
  resource?: Resource;
  mode?: ValidateMode;
  profiles: string[];
}

const PARAMETER_NAMES = new Set(['resource', 'mode', 'profile']);

export function readValidateInput(req: FhirRequest, type: string): ValidateInput {
  const input: ValidateInput = { profiles: [...(req.query.profile ?? [])] };
  let mode = req.query.mode?.[0];
  if (req.body !== undefined) {
    const body = requireResource(req.body);
    if (isOperationParameters(body, type)) {
      const params = (body as Parameters).parameter ?? [];
      for (const p of params) {
        if (!PARAMETER_NAMES.has(p.name)) throw new OperationOutcomeError(badRequest(`$validate has no parameter "${p.name}": it takes resource, mode and profile`, 'Parameters.parameter'));
      }
      input.resource = params.find((p) => p.name === 'resource')?.resource;
      mode = valueOf(params.find((p) => p.name === 'mode')) ?? mode;
      for (const p of params.filter((q) => q.name === 'profile')) {
        const url = valueOf(p);
        if (!url) throw new OperationOutcomeError(badRequest('The profile parameter needs a valueUri or valueCanonical', 'Parameters.parameter'));
        input.profiles.push(url);
      }
    } else {
      input.resource = body;
    }
  }
  if (mode !== undefined) {
    if (!(VALIDATE_MODES as readonly string[]).includes(mode)) {
      throw new OperationOutcomeError(badRequest(`mode must be one of ${VALIDATE_MODES.join(', ')}, not "${mode}"`, 'mode'));
    }
    input.mode = mode as ValidateMode;
  }
  return input;
}

/** A Parameters body is the operation's input unless it is itself the resource to validate (POST Parameters/$validate). */
function isOperationParameters(body: Resource, type: string): boolean {
  if (body.resourceType !== 'Parameters') return false;
  if (type !== 'Parameters') return true;
  return ((body as Parameters).parameter ?? []).some((p) => p.name === 'resource' || p.name === 'mode');
}

function valueOf(p: ParametersParameter | undefined): string | undefined {
  return p?.valueCode ?? p?.valueUri ?? p?.valueCanonical ?? p?.valueString;
}
