/**
 * Billing fields of the payer policies (DOMAIN-97116 §A, §B): how a payer turns minutes into units, shares
 * co-treatment, and which modifiers it uses. Keyed by the id of a payer policy file in bots/policies/ (the bots
 * runtime reads those and selects one per Coverage, profiles/README.md §3.3); this file adds the billing fields under
 * the same ids. Data, validated with ajv when loaded; a bad file is refused naming the file and the field.
 */
import fs from 'node:fs';
import path from 'node:path';
import { Ajv, type JSONSchemaType } from 'ajv';
import shipped from './data/billing-policies.json' with { type: 'json' };
import { PLACE_OF_SERVICE } from './codes.js';
import { isTimedCode, isUntimedCode } from './units.js';
import type { CoTreatmentBilling, DistinctModifier, SessionCap, UnitPolicy, UnitRule } from './types.js';

export interface BillingPolicy extends UnitPolicy {
  /** The id of the payer policy (bots/policies/<id>.json) these fields belong to. */
  readonly id: string;
  readonly unitRule: UnitRule;
  /** Co-treatment (two disciplines on one service): one therapist bills the units, or they split them (DOMAIN §A). */
  readonly coTreatment: CoTreatmentBilling;
  /** Per-session unit limits (seed: 97116 at most 4 unless justified); over the limit the Claim is held for review. */
  readonly sessionCaps: readonly SessionCap[];
  /** CQ/CO for assistant-furnished services (Medicare since 2020; DOMAIN §B). */
  readonly assistantModifiers: boolean;
  /** KX once the patient's allowed amount this year passes the threshold (Medicare therapy threshold). */
  readonly kx: boolean;
  /** The NCCI-associated modifier used for documented distinct services: 59 or an X{EPSU} modifier. */
  readonly distinctModifier: DistinctModifier;
  /** CMS place of service when the Encounter's Location states none. */
  readonly defaultPlaceOfService: string;
  readonly sources: readonly string[];
}

interface PolicyFile {
  readonly about: string;
  readonly policies: readonly BillingPolicy[];
}

const policySchema: JSONSchemaType<BillingPolicy> = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'unitRule', 'coTreatment', 'sessionCaps', 'assistantModifiers', 'kx', 'distinctModifier', 'defaultPlaceOfService', 'sources'],
  properties: {
    id: { type: 'string', pattern: '^[a-z0-9][a-z0-9-]*$' },
    unitRule: { type: 'string', enum: ['cms-8-minute', 'midpoint'] },
    coTreatment: { type: 'string', enum: ['single', 'split'] },
    sessionCaps: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'maxUnits'],
        properties: { code: { type: 'string', minLength: 1 }, maxUnits: { type: 'integer', minimum: 1 } },
      },
    },
    assistantModifiers: { type: 'boolean' },
    kx: { type: 'boolean' },
    distinctModifier: { type: 'string', enum: ['59', 'XE', 'XS', 'XP', 'XU'] },
    defaultPlaceOfService: { type: 'string', pattern: '^[0-9]{2}$' },
    sources: { type: 'array', items: { type: 'string' } },
  },
};

const fileSchema: JSONSchemaType<PolicyFile> = {
  type: 'object',
  additionalProperties: false,
  required: ['about', 'policies'],
  properties: { about: { type: 'string' }, policies: { type: 'array', minItems: 1, items: policySchema } },
};

const validate = new Ajv({ allErrors: true }).compile(fileSchema);

/** Validates a billing policy file: schema, then the rules a schema cannot say. Throws naming file and field. */
export function parseBillingPolicies(data: unknown, source: string): BillingPolicy[] {
  const fail = (problem: string): never => {
    throw new Error(`billing policy file ${source} is invalid: ${problem}`);
  };
  if (!validate(data)) {
    fail((validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`).join('; '));
  }
  const file = data as PolicyFile;
  const ids = new Set<string>();
  file.policies.forEach((p, i) => {
    if (ids.has(p.id)) fail(`/policies/${i}/id ${p.id} is used twice`);
    ids.add(p.id);
    if (PLACE_OF_SERVICE[p.defaultPlaceOfService] === undefined) {
      fail(`/policies/${i}/defaultPlaceOfService ${p.defaultPlaceOfService} is not in the place-of-service value set`);
    }
    p.sessionCaps.forEach((cap, j) => {
      if (!isTimedCode(cap.code) && !isUntimedCode(cap.code)) fail(`/policies/${i}/sessionCaps/${j}/code ${cap.code} is not a therapy code`);
    });
  });
  return [...file.policies];
}

/** The billing fields shipped in src/billing/data/billing-policies.json. */
export function loadBillingPolicies(): BillingPolicy[] {
  return parseBillingPolicies(structuredClone(shipped), 'src/billing/data/billing-policies.json');
}

/** Where a payer policy folder keeps the billing fields of its own policies: `<folder>/billing/*.json`. */
export const BILLING_SUBFOLDER = 'billing';

/**
 * The shipped billing fields, with those of `<policiesDir>/billing/*.json` (same format as the shipped file) added
 * or replacing them by policy id: a clinic that brings its own payer policies (STRIDE_POLICIES_DIR) brings their
 * billing fields beside them. Files are read in name order; a bad one is refused naming the file and the field.
 */
export function loadBillingPoliciesFor(policiesDir: string): BillingPolicy[] {
  const byId = new Map(loadBillingPolicies().map((p) => [p.id, p]));
  const folder = path.join(policiesDir, BILLING_SUBFOLDER);
  const files = fs.existsSync(folder) ? fs.readdirSync(folder).filter((f) => f.endsWith('.json')).sort() : [];
  for (const name of files) {
    const file = path.join(folder, name);
    let data: unknown;
    try {
      data = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (err) {
      throw new Error(`billing policy file ${file} is not JSON: ${(err as Error).message}`);
    }
    for (const policy of parseBillingPolicies(data, file)) byId.set(policy.id, policy);
  }
  return [...byId.values()];
}

/**
 * Start-up check: every payer policy the server loaded has billing fields, so that no session meets a policy
 * billing cannot apply. Throws naming the ids without them and where their fields go.
 */
export function assertBillingForEvery(policyIds: readonly string[], billing: readonly BillingPolicy[], policiesDir?: string): void {
  const missing = policyIds.filter((id) => !billing.some((b) => b.id === id));
  if (missing.length > 0) {
    const where = policiesDir ? `${path.join(policiesDir, BILLING_SUBFOLDER)}/*.json or src/billing/data/billing-policies.json` : 'src/billing/data/billing-policies.json';
    throw new Error(`no billing fields for payer polic${missing.length > 1 ? 'ies' : 'y'} ${missing.join(', ')}: add ${missing.length > 1 ? 'them' : 'it'} to ${where}`);
  }
}

/** The billing fields of the payer policy the bots runtime selected for a Coverage. */
export function billingPolicyFor(policyId: string, billing: readonly BillingPolicy[]): BillingPolicy {
  const found = billing.find((b) => b.id === policyId);
  if (!found) throw new Error(`no billing fields for payer policy ${policyId} (src/billing/data/billing-policies.json)`);
  return found;
}
