/**
 * Reading an operation's input (R4 operations.html §3.1.0.1): a Parameters body, and simple parameters in the query.
 * Each operation says which parameters it takes and of what kind; an unknown name, or a value of the wrong kind, is a
 * 400 that names it. Names are looked up in a Map (never a plain object keyed by client input).
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Parameters, ParametersParameter } from '@medplum/fhirtypes';
import type { FhirRequest } from '../types.js';
import { badRequest } from '../outcomes.js';

export type ParameterKind = 'reference' | 'date' | 'code' | 'boolean' | 'string' | 'attachment';

export interface ParameterSpec {
  kind: ParameterKind;
  /** Several values allowed. */
  repeats?: boolean;
}

/** The values of each parameter given, as strings (a reference's `Type/id`, a date, a code, 'true'/'false'). */
export type OperationInput = Map<string, string[]>;

export function readParameters(req: FhirRequest, operation: string, specs: Readonly<Record<string, ParameterSpec>>): OperationInput {
  const known = new Map(Object.entries(specs));
  const input: OperationInput = new Map();
  const add = (name: string, value: string) => {
    const spec = known.get(name);
    if (!spec) throw new OperationOutcomeError(badRequest(`$${operation} has no parameter "${name}": it takes ${[...known.keys()].join(', ')}`, name));
    checkValue(operation, name, spec.kind, value);
    const values = input.get(name) ?? [];
    if (values.length > 0 && !spec.repeats) throw new OperationOutcomeError(badRequest(`$${operation}: "${name}" is given more than once`, name));
    input.set(name, [...values, value]);
  };
  for (const [name, values] of Object.entries(req.query)) {
    if (name.startsWith('_')) continue;
    for (const value of values) add(name, value);
  }
  if (req.body !== undefined) {
    const body = req.body as Parameters;
    if (typeof body !== 'object' || body === null || body.resourceType !== 'Parameters') {
      throw new OperationOutcomeError(badRequest(`$${operation} takes a Parameters resource as its body`));
    }
    for (const p of body.parameter ?? []) add(p.name, valueOf(operation, p, known.get(p.name)?.kind));
  }
  return input;
}

function valueOf(operation: string, p: ParametersParameter, kind: ParameterKind | undefined): string {
  const value =
    kind === 'reference' ? p.valueReference?.reference ?? p.valueString
    : kind === 'date' ? p.valueDate ?? p.valueDateTime?.slice(0, 10) ?? p.valueString
    : kind === 'code' ? p.valueCode ?? p.valueString
    : kind === 'boolean' ? (p.valueBoolean === undefined ? p.valueString : String(p.valueBoolean))
    : kind === 'attachment' ? p.valueAttachment?.data ?? p.valueString
    : p.valueString;
  if (value === undefined) throw new OperationOutcomeError(badRequest(`$${operation}: parameter "${p.name}" needs a value of kind ${kind ?? 'string'}`, `Parameters.parameter.where(name = '${p.name}')`));
  return value;
}

function checkValue(operation: string, name: string, kind: ParameterKind, value: string): void {
  const ok =
    kind === 'reference' ? /^[A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64}$/.test(value)
    : kind === 'date' ? /^\d{4}-\d{2}-\d{2}$/.test(value) && !Number.isNaN(Date.parse(value))
    : kind === 'boolean' ? value === 'true' || value === 'false'
    : value.length > 0;
  if (!ok) {
    const what = kind === 'reference' ? 'a reference Type/id' : kind === 'date' ? 'a date YYYY-MM-DD' : kind === 'boolean' ? 'true or false' : 'a value';
    throw new OperationOutcomeError(badRequest(`$${operation}: "${name}" takes ${what}, not "${value}"`, name));
  }
}

/** The one value of a parameter, if given. */
export function one(input: OperationInput, name: string): string | undefined {
  return input.get(name)?.[0];
}
