/**
 * The fee schedule: the clinic's charge per unit of each code (Claim.item.unitPrice), and an expected allowed amount
 * used to estimate the KX running total. Data, not code (issue 7 §4): a JSON file validated with ajv when loaded; a
 * bad file is refused with a message naming the file and the field. The shipped file is ILLUSTRATIVE; real Medicare
 * allowed amounts come from the CMS Physician Fee Schedule (RVUs x GPCI x conversion factor).
 */
import { Ajv, type JSONSchemaType } from 'ajv';
import shipped from './data/fee-schedule.json' with { type: 'json' };
import { SYSTEMS } from './codes.js';

export interface FeeEntry {
  readonly code: string;
  /** Which code system the code is from: CPT (AMA) or HCPCS level II (CMS). */
  readonly system: 'cpt' | 'hcpcs';
  readonly display: string;
  /** The clinic's charge for one unit, in the schedule's currency. */
  readonly charge: number;
  /** An expected payer allowed amount for one unit (estimates only: the 835 gives the real one). */
  readonly expectedAllowed: number;
}

export interface FeeSchedule {
  readonly id: string;
  readonly about: string;
  readonly currency: string;
  readonly effective: { readonly start: string; readonly end: string };
  readonly fees: readonly FeeEntry[];
}

const DATE = '^\\d{4}-\\d{2}-\\d{2}$';

const schema: JSONSchemaType<FeeSchedule> = {
  type: 'object',
  additionalProperties: false,
  required: ['id', 'about', 'currency', 'effective', 'fees'],
  properties: {
    id: { type: 'string', minLength: 1 },
    about: { type: 'string' },
    currency: { type: 'string', pattern: '^[A-Z]{3}$' },
    effective: {
      type: 'object',
      additionalProperties: false,
      required: ['start', 'end'],
      properties: { start: { type: 'string', pattern: DATE }, end: { type: 'string', pattern: DATE } },
    },
    fees: {
      type: 'array',
      minItems: 1,
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['code', 'system', 'display', 'charge', 'expectedAllowed'],
        properties: {
          code: { type: 'string', pattern: '^([0-9]{4}[0-9A-Z]|[A-V][0-9]{4})$' },
          system: { type: 'string', enum: ['cpt', 'hcpcs'] },
          display: { type: 'string', minLength: 1 },
          charge: { type: 'number', exclusiveMinimum: 0, multipleOf: 0.01 },
          expectedAllowed: { type: 'number', minimum: 0, multipleOf: 0.01 },
        },
      },
    },
  },
};

// multipleOfPrecision: 67.6 / 0.01 is not an integer in binary floating point; compare to 9 decimals.
const validate = new Ajv({ allErrors: true, multipleOfPrecision: 9 }).compile(schema);

/** Validates a fee schedule; throws naming the file and every bad field (`/fees/3/charge must be > 0`). */
export function parseFeeSchedule(data: unknown, source: string): FeeSchedule {
  if (!validate(data)) {
    const problems = (validate.errors ?? []).map((e) => `${e.instancePath || '/'} ${e.message ?? 'is invalid'}`);
    throw new Error(`fee schedule ${source} is invalid: ${problems.join('; ')}`);
  }
  const seen = new Set<string>();
  data.fees.forEach((fee, i) => {
    if (seen.has(fee.code)) throw new Error(`fee schedule ${source} is invalid: /fees/${i}/code ${fee.code} is listed twice`);
    seen.add(fee.code);
  });
  if (data.effective.end < data.effective.start) {
    throw new Error(`fee schedule ${source} is invalid: /effective/end is before /effective/start`);
  }
  return data;
}

/** The schedule shipped in src/billing/data/fee-schedule.json (illustrative amounts). */
export function loadFeeSchedule(): FeeSchedule {
  return parseFeeSchedule(structuredClone(shipped), 'src/billing/data/fee-schedule.json');
}

export function findFee(schedule: FeeSchedule, code: string): FeeEntry | undefined {
  return schedule.fees.find((f) => f.code === code);
}

export function feeSystemUrl(fee: FeeEntry): string {
  return fee.system === 'cpt' ? SYSTEMS.cpt : SYSTEMS.hcpcs;
}

/** Money arithmetic in whole cents, so that units x price and sums compare exactly. */
export function toCents(amount: number): number {
  return Math.round(amount * 100);
}

export function fromCents(cents: number): number {
  return cents / 100;
}
