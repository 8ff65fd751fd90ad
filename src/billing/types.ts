/**
 * Plain input and output shapes of the billing rules (src/billing/units.ts, src/billing/modifiers.ts).
 * No FHIR resources here: callers map Encounter/Procedure/Claim data to these shapes and back.
 */

/** Therapy discipline of the plan of care a line is billed under. */
export type Discipline = 'PT' | 'OT' | 'SLP';

/** One timed code performed on one date of service, with its documented one-on-one minutes (whole minutes). */
export interface TimedService {
  readonly code: string;
  readonly minutes: number;
}

/** Units given to one code for one date of service. `minutes` is the (summed) minutes the units were computed from. */
export interface UnitAllocation {
  readonly code: string;
  readonly minutes: number;
  readonly units: number;
}

/** How a payer turns minutes into units: CMS totals all timed minutes first; AMA/CPT midpoint counts per code. */
export type UnitRule = 'cms-8-minute' | 'midpoint';

export interface UnitPolicy {
  readonly unitRule: UnitRule;
}

/** A payer's per-session unit limit for one code (DOMAIN §A, seed: "four units of 97116 at most per session"). */
export interface SessionCap {
  readonly code: string;
  readonly maxUnits: number;
}

export interface SessionCapResult {
  /** The allocations, unchanged: a cap never cuts units silently. */
  readonly allocations: readonly UnitAllocation[];
  readonly heldForReview: boolean;
  /** Why the claim is held, or null when it is not. */
  readonly reason: string | null;
}

/** How co-treating therapists bill a session: one of them bills every unit, or they split the units. */
export type CoTreatmentBilling = 'single' | 'split';

/** One of the co-treating therapists: every minute they spent with the patient, overlapping minutes included. */
export interface CoTreatingTherapist {
  readonly discipline: Discipline;
  readonly minutes: number;
}

export interface CoTreatmentInput {
  /** The timed code billed for the co-treated time (e.g. 97116). */
  readonly code: string;
  /** Exactly the two therapists who treated together. */
  readonly therapists: readonly [CoTreatingTherapist, CoTreatingTherapist];
  /** Minutes both therapists treated the patient at the same time; counted once. */
  readonly overlapMinutes: number;
  readonly billing: CoTreatmentBilling;
  /** Under 'single': who bills. Defaults to the therapist with the most minutes (the first on a tie). */
  readonly billedBy?: Discipline;
}

export interface CoTreatmentShare {
  readonly discipline: Discipline;
  readonly minutes: number;
  readonly units: number;
}

export interface CoTreatmentResult {
  readonly code: string;
  /** Minutes the patient was treated: both therapists' minutes, overlap counted once. */
  readonly sessionMinutes: number;
  readonly totalUnits: number;
  /** One share per therapist, in input order; units sum to totalUnits. */
  readonly shares: readonly CoTreatmentShare[];
}

/** CQ: PT service furnished in whole or in part by a PTA; CO: the same for OT and an OTA (Pub 100-04 ch.5 §20.1). */
export type AssistantModifier = 'CQ' | 'CO';

/** Discipline modifiers (Pub 100-04 ch.5 §20.1): GP physical therapy, GO occupational therapy, GN speech-language. */
export type DisciplineModifier = 'GP' | 'GO' | 'GN';

/** NCCI-associated modifiers that may bypass a PTP edit whose modifier indicator is 1. */
export type DistinctModifier = '59' | 'XE' | 'XS' | 'XP' | 'XU';

/** One billed line of a code, split by who furnished its minutes (therapist vs assistant working alone). */
export interface AssistantLineInput {
  readonly discipline: Discipline;
  readonly code: string;
  /** Units billed for the code on the date of service (from computeUnits). */
  readonly units: number;
  /** Minutes furnished by the PT/OT, alone or together with the assistant. */
  readonly therapistMinutes: number;
  /** Minutes the PTA/OTA furnished independently of the therapist. */
  readonly assistantMinutes: number;
}

export interface AssistantUnitSplit {
  /** The modifier the `unitsWithModifier` line carries (null for SLP or when no unit needs one). */
  readonly modifier: AssistantModifier | null;
  readonly unitsWithModifier: number;
  readonly unitsWithoutModifier: number;
}

/** A patient's allowed therapy amounts earlier this calendar year, per KX pool, in dollars. */
export interface PriorAllowed {
  /** Physical therapy and speech-language pathology combined. */
  readonly ptSlp: number;
  readonly ot: number;
}

export type KxPool = 'PT+SLP' | 'OT';

export interface KxLineInput {
  readonly discipline: Discipline;
  /** The line's allowed amount in dollars. */
  readonly allowed: number;
}

export interface KxLineResult {
  readonly pool: KxPool;
  /** The pool's allowed amount this year once this line is counted, in dollars. */
  readonly cumulativeAllowed: number;
  readonly kx: boolean;
  /** The pool has passed the targeted medical review threshold (informational; no modifier). */
  readonly targetedReview: boolean;
}

/** One NCCI procedure-to-procedure edit: column 2 is not paid with column 1 on the same day unless bypassed. */
export interface PtpPair {
  readonly column1: string;
  readonly column2: string;
  /** '0' never bypassable; '1' bypassable with an NCCI-associated modifier; '9' edit deleted. */
  readonly modifierIndicator: '0' | '1' | '9';
  readonly source: string;
}

export interface PtpLine {
  readonly code: string;
  /** Lines with 0 units are not billed and take part in no edit. Omitted means billed. */
  readonly units?: number;
}

export interface PtpLineModifier {
  readonly lineIndex: number;
  readonly code: string;
  readonly modifier: DistinctModifier;
}

export interface PtpFinding {
  readonly kind: 'ptp-not-separately-payable';
  readonly lineIndex: number;
  readonly column1: string;
  readonly column2: string;
  readonly message: string;
  readonly source: string;
}

export interface PtpResult {
  readonly modifiers: readonly PtpLineModifier[];
  readonly findings: readonly PtpFinding[];
}

export interface LineModifierInput {
  readonly discipline: Discipline;
  readonly assistant?: AssistantModifier | null;
  readonly distinct?: DistinctModifier | null;
  readonly kx?: boolean;
}
