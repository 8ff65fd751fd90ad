/**
 * Payer policies: data, not code (DOMAIN-97116 preamble). One JSON file per policy in bots/policies/, validated with
 * ajv against bots/policies/policy.schema.json at start-up; a bad file stops start-up naming the file and the field.
 * Selection follows the guide (profiles/README.md §3.3): payer identifier, then Source of Payment Typology prefix,
 * then the default (Medicare).
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import type { Coverage, Organization } from '@medplum/fhirtypes';
import { defaultPoliciesDir } from './loader.js';

export const SOURCE_OF_PAYMENT = 'urn:oid:2.16.840.1.113883.3.221.5';
const SCHEMA_FILE = 'policy.schema.json';

export interface CodeRef {
  system: string;
  code: string;
}

export interface DocumentationPolicy {
  progressReport: { everyTreatmentDays: number } | null;
  certification: { withinDays: number; maxPlanDays: number } | null;
  frequencyReview: { maxVisits: number; windowDays: number } | null;
  coveredDiagnoses: string[] | null;
  fes: { deviceCodes: CodeRef[]; diagnoses: string[] };
}

export interface Policy {
  id: string;
  name: string;
  description?: string;
  default: boolean;
  match: { payerIdentifiers: Array<{ system: string; value: string }>; sourceOfPaymentPrefixes: string[] };
  documentation: DocumentationPolicy;
  sources: string[];
  /** The file it was read from. */
  file: string;
}

export interface PolicySet {
  /** The folder the policies were read from (STRIDE_POLICIES_DIR, default bots/policies/). */
  readonly dir: string;
  readonly all: readonly Policy[];
  readonly fallback: Policy;
  /** Whether any policy matches on the payer's identifier (so the payer Organization must be read). */
  readonly matchesPayers: boolean;
  select(coverage: Coverage | undefined, payer: Organization | undefined): Policy;
}

/** Reads every `*.json` policy in `dir` and validates it against Stride's schema (bots/policies/policy.schema.json). */
export function loadPolicies(dir: string, schemaPath = path.join(defaultPoliciesDir(), SCHEMA_FILE)): PolicySet {
  if (!fs.existsSync(dir)) throw new Error(`Payer policies: ${dir} does not exist`);
  const validate = compiledSchema(schemaPath);
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json') && !f.endsWith('.schema.json')).sort();
  const policies = files.map((name) => {
    const file = path.join(dir, name);
    const data = readJson(file) as Record<string, unknown>;
    if (!validate(data)) throw new Error(`Payer policy ${file} is invalid: ${describeErrors(validate.errors ?? [])}`);
    return { ...(data as unknown as Policy), default: data.default === true, file };
  });
  return createPolicySet(policies, dir);
}

function createPolicySet(policies: Policy[], dir: string): PolicySet {
  if (policies.length === 0) throw new Error(`Payer policies: no policy file in ${dir}`);
  const ids = new Map<string, string>();
  for (const p of policies) {
    const other = ids.get(p.id);
    if (other) throw new Error(`Payer policy ${p.file} is invalid: /id "${p.id}" is also the id of ${other}`);
    ids.set(p.id, p.file);
  }
  const defaults = policies.filter((p) => p.default);
  if (defaults.length !== 1) {
    throw new Error(`Payer policies in ${dir}: exactly one must have "default": true, found ${defaults.length} (${defaults.map((p) => p.file).join(', ') || 'none'})`);
  }
  const fallback = defaults[0];
  return {
    dir,
    all: policies,
    fallback,
    matchesPayers: policies.some((p) => p.match.payerIdentifiers.length > 0),
    select: (coverage, payer) => selectPolicy(policies, fallback, coverage, payer),
  };
}

function selectPolicy(policies: Policy[], fallback: Policy, coverage: Coverage | undefined, payer: Organization | undefined): Policy {
  const ids = payer?.identifier ?? [];
  const byPayer = policies.find((p) => p.match.payerIdentifiers.some((m) => ids.some((i) => i.system === m.system && i.value === m.value)));
  if (byPayer) return byPayer;
  const sopt = coverage?.type?.coding?.find((c) => c.system === SOURCE_OF_PAYMENT)?.code;
  if (sopt) {
    let best: { policy: Policy; length: number } | undefined;
    for (const policy of policies) {
      for (const prefix of policy.match.sourceOfPaymentPrefixes) {
        if (sopt.startsWith(prefix) && (!best || prefix.length > best.length)) best = { policy, length: prefix.length };
      }
    }
    if (best) return best.policy;
  }
  return fallback;
}

const compiled = new Map<string, ValidateFunction>();

/** Compiling the schema costs ~0.3 s (ajv builds the draft-07 meta-schema first): once per process. */
function compiledSchema(schemaPath: string): ValidateFunction {
  let validate = compiled.get(schemaPath);
  if (!validate) {
    validate = new Ajv({ allErrors: true }).compile(readJson(schemaPath) as object);
    compiled.set(schemaPath, validate);
  }
  return validate;
}

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`Payer policy ${file} is not readable JSON: ${(err as Error).message}`);
  }
}

/** The deepest errors name the field a person must fix (oneOf branches also report their parent). */
function describeErrors(errors: ErrorObject[]): string {
  const depth = (e: ErrorObject) => e.instancePath.split('/').length;
  const deepest = Math.max(...errors.map(depth));
  const lines = errors.filter((e) => depth(e) === deepest).map((e) => {
    const extra = e.keyword === 'additionalProperties' ? ` (${(e.params as { additionalProperty: string }).additionalProperty})` : '';
    return `${e.instancePath || '/'} ${e.message ?? 'is invalid'}${extra}`;
  });
  return [...new Set(lines)].join('; ');
}
