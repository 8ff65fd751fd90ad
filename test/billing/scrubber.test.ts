import { describe, it, expect } from 'vitest';
import type { Claim, Coverage, Organization, Patient, Practitioner } from '@medplum/fhirtypes';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import type { OpenFinding } from '../../src/billing/findings.js';
import { computeLines } from '../../src/billing/lines.js';
import { combineSessions } from '../../src/billing/day.js';
import { isValidNpi, luhnValid, npiCheckDigit } from '../../src/billing/npi.js';
import { loadBillingPolicies } from '../../src/billing/policy.js';
import { scrubClaim } from '../../src/billing/scrubber.js';
import { createLookup } from '../../src/billing/session.js';
import { REF, exampleClaim, exampleFacts, exampleResources, get, type SessionEdit } from './support.js';

const fees = loadFeeSchedule();
const medicare = loadBillingPolicies().find((p) => p.id === 'medicare')!;
/** What the example session's minutes allow: 97116 x2, 97110 x1, 97530 x1 on 2026-11-10. */
const sessionUnits = computeLines(combineSessions([exampleFacts()]), medicare, fees, []).units;

interface ScrubCase {
  claim?: (claim: Claim) => void;
  resources?: SessionEdit;
  openFindings?: OpenFinding[];
  withoutSession?: boolean;
}

/** Scrubs the guide's example claim (profiles/examples/claim-session-complete.json) against the example session. */
function scrub(c: ScrubCase = {}) {
  const claim = exampleClaim();
  c.claim?.(claim);
  const resources = exampleResources();
  c.resources?.(resources);
  return scrubClaim(claim, {
    resolve: createLookup(resources),
    fees,
    sessionUnits: c.withoutSession ? null : sessionUnits,
    openFindings: c.openFindings ?? [],
  });
}

const ruleIds = (c: ScrubCase) => scrub(c).map((f) => f.ruleId);
const messages = (c: ScrubCase) => scrub(c).map((f) => f.message);
const item = (claim: Claim, i: number) => claim.item![i]!;

describe('NPI check digit (Luhn with the 80840 prefix)', () => {
  it('accepts the example NPIs and rejects a wrong check digit or length', () => {
    for (const npi of ['1234567893', '1942837463', '1659372811', '1847563024']) expect(isValidNpi(npi), npi).toBe(true);
    for (const npi of ['1234567890', '1942837464', '123456789', '12345678930', '123456789X']) expect(isValidNpi(npi), npi).toBe(false);
    expect(npiCheckDigit('123456789')).toBe(3);
    expect(luhnValid('79927398713')).toBe(true);
    expect(luhnValid('79927398710')).toBe(false);
  });
});

describe('scrubClaim: a clean claim', () => {
  it('finds nothing on the guide example claim with its session', () => {
    expect(scrub()).toEqual([]);
  });

  it('finds nothing when the session is unknown (a posted claim): units are then only checked for shape', () => {
    expect(scrub({ withoutSession: true })).toEqual([]);
  });
});

describe('scrubClaim: each check fails on its own', () => {
  it('billing provider NPI: wrong check digit, not 10 digits, missing', () => {
    const npi = (value?: string): SessionEdit => (r) => {
      get<Organization>(r, REF.clinic).identifier![0] = value === undefined ? { system: 'urn:other', value: 'x' } : { system: 'http://hl7.org/fhir/sid/us-npi', value };
    };
    expect(ruleIds({ resources: npi('1234567890') })).toEqual(['scrub-billing-npi']);
    expect(messages({ resources: npi('1234567890') })[0]).toMatch(/fails the Luhn check \(prefix 80840\)/);
    expect(messages({ resources: npi('123456789') })[0]).toMatch(/not 10 digits/);
    expect(messages({ resources: npi() })[0]).toMatch(/no NPI identifier/);
    expect(ruleIds({ claim: (c) => (c.provider = { reference: 'Organization/unknown' }) })).toEqual(['scrub-billing-npi']);
  });

  it('billing provider without tax id or address', () => {
    const result = scrub({ resources: (r) => {
      const org = get<Organization>(r, REF.clinic);
      org.identifier = org.identifier!.slice(0, 1);
      delete org.address;
    } });
    expect(result.map((f) => [f.ruleId, f.message])).toEqual([
      ['scrub-billing-provider', 'The billing provider lacks tax id (EIN, urn:oid:2.16.840.1.113883.4.4) and address (line, city, state, postal code) (837P loop 2010AA).'],
    ]);
  });

  it('payer: no payer id, or a coverage that does not resolve', () => {
    expect(ruleIds({ resources: (r) => void (get<Organization>(r, REF.payer).identifier = []) })).toEqual(['scrub-payer']);
    expect(ruleIds({ claim: (c) => (c.insurance![0]!.coverage = { reference: 'Coverage/unknown' }) })).toEqual(['scrub-payer']);
  });

  it('member id missing', () => {
    expect(ruleIds({ resources: (r) => {
      const coverage = get<Coverage>(r, REF.coverage);
      delete coverage.subscriberId;
      delete coverage.identifier;
    } })).toEqual(['scrub-member-id']);
  });

  it('patient demographics: birth date, gender, address', () => {
    const result = scrub({ resources: (r) => {
      const patient = get<Patient>(r, REF.patient);
      delete patient.birthDate;
      delete patient.gender;
      patient.address![0]!.postalCode = undefined;
    } });
    expect(result.map((f) => [f.ruleId, f.message])).toEqual([
      ['scrub-patient-demographics', 'The patient record lacks birth date, gender, address (line, city, state, postal code).'],
    ]);
  });

  it('ICD-10-CM codes: malformed, not ICD-10-CM, or more than 12', () => {
    expect(ruleIds({ claim: (c) => (c.diagnosis![0]!.diagnosisCodeableConcept!.coding![0]!.code = '781.2') })).toEqual(['scrub-icd10']);
    expect(ruleIds({ claim: (c) => (c.diagnosis![1]!.diagnosisCodeableConcept = { coding: [{ system: 'http://snomed.info/sct', code: '22325002' }] }) })).toEqual(['scrub-icd10']);
    expect(ruleIds({ claim: (c) => (c.diagnosis = Array.from({ length: 13 }, (_, i) => ({ ...c.diagnosis![0]!, sequence: i + 1 }))) })).toEqual(['scrub-icd10']);
    expect(scrub({ claim: (c) => (c.diagnosis![0]!.diagnosisCodeableConcept!.coding![0]!.code = 'S72001A') })).toEqual([]);
  });

  it('every line has a CPT code', () => {
    expect(ruleIds({ claim: (c) => (item(c, 2).productOrService = { coding: [{ system: 'http://loinc.org', code: '97530' }] }) })).toContain('scrub-cpt');
    expect(ruleIds({ claim: (c) => (item(c, 2).productOrService.coding![0]!.code = '9753') })).toContain('scrub-cpt');
  });

  it('modifiers valid for the code', () => {
    const mods = (i: number, ...codes: string[]) => (c: Claim) => {
      item(c, i).modifier = codes.map((code) => ({ coding: [{ system: code === '59' ? 'http://www.ama-assn.org/go/cpt' : 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code }] }));
    };
    const only = (claim: (c: Claim) => void) => scrub({ claim }).map((f) => [f.ruleId, f.expression[0], f.message.replace(/^.*invalid modifiers: /, '')]);
    expect(only(mods(2))).toEqual([['scrub-modifiers', 'Claim.item[2].modifier', 'no discipline modifier (GP, GO or GN) on a therapy code.']]);
    expect(only(mods(1, 'GO', 'CQ'))).toEqual([['scrub-modifiers', 'Claim.item[1].modifier', 'CQ without GP.']]);
    expect(only(mods(0, 'GP', '59', 'XU'))).toEqual([['scrub-modifiers', 'Claim.item[0].modifier', '59 and XU together (one distinct-service modifier at most).']]);
    expect(only(mods(2, 'GP', '59'))).toEqual([['scrub-modifiers', 'Claim.item[2].modifier', '59 although 97530 is not the column-2 code of a PTP pair billed on this claim.']]);
    expect(only(mods(2, 'GP', 'ZZ'))).toEqual([['scrub-modifiers', 'Claim.item[2].modifier', 'ZZ not in the therapy modifier value set.']]);
    expect(only(mods(2, 'GP', 'GO'))).toEqual([['scrub-modifiers', 'Claim.item[2].modifier', 'several discipline modifiers (GP, GO).']]);
    expect(only(mods(2, 'GP', 'KX', 'XE', 'XS', 'XP'))[0]![2]).toMatch(/^5 modifiers \(an 837P line holds 4\)/);
    expect(scrub({ claim: mods(2, 'GP', 'KX') })).toEqual([]);
  });

  it('units > 0, whole, and consistent with the session', () => {
    expect(ruleIds({ claim: (c) => (item(c, 2).quantity = { value: 0 }), withoutSession: true })).toEqual(['scrub-units', 'scrub-charge']);
    expect(ruleIds({ claim: (c) => (item(c, 2).quantity = { value: 1.5 }), withoutSession: true })).toEqual(['scrub-units', 'scrub-charge']);
    const three = scrub({ claim: (c) => {
      item(c, 0).quantity = { value: 3 };
      item(c, 0).net = { value: 180, currency: 'USD' };
      c.total = { value: 300, currency: 'USD' };
    } });
    expect(three.map((f) => [f.ruleId, f.message])).toEqual([
      ['scrub-units', "97116 on 2026-11-10: the claim bills 3 unit(s) but the session's documented minutes support 2."],
    ]);
  });

  it('charge = units x fee, and the total is the sum', () => {
    expect(messages({ claim: (c) => (item(c, 0).unitPrice = { value: 61, currency: 'USD' }) })).toEqual([
      "Line 1 (97116): unit price 61 differs from the fee schedule's 60; net 120 is not 2 x 61.",
    ]);
    expect(messages({ claim: (c) => {
      item(c, 0).net = { value: 100, currency: 'USD' };
      c.total = { value: 220, currency: 'USD' };
    } })).toEqual(['Line 1 (97116): net 100 is not 2 x 60.']);
    expect(messages({ claim: (c) => (c.total = { value: 250, currency: 'USD' }) })).toEqual(['The claim total 250 does not equal the sum of the line charges (240).']);
    expect(ruleIds({ claim: (c) => delete item(c, 1).unitPrice })).toEqual(['scrub-charge']);
  });

  it('diagnosis pointers name a diagnosis, 1 to 4 of them', () => {
    expect(messages({ claim: (c) => (item(c, 1).diagnosisSequence = [2, 3]) })).toEqual(['Line 2 (97110) has pointer(s) 3 naming no diagnosis.']);
    expect(messages({ claim: (c) => (item(c, 1).diagnosisSequence = []) })).toEqual(['Line 2 (97110) has no diagnosis pointer.']);
    expect(ruleIds({ claim: (c) => (item(c, 1).diagnosisSequence = [1, 2, 1, 2, 1]) })).toEqual(['scrub-diagnosis-pointer']);
  });

  it('place of service from the CMS list', () => {
    expect(ruleIds({ claim: (c) => delete item(c, 0).locationCodeableConcept })).toEqual(['scrub-place-of-service']);
    expect(messages({ claim: (c) => (item(c, 0).locationCodeableConcept!.coding![0]!.code = '81') })).toEqual([
      'Line 1 (97116) has place of service 81, which is not in the place-of-service value set.',
    ]);
  });

  it('rendering provider: a primary care-team member with a valid NPI', () => {
    expect(ruleIds({ claim: (c) => (c.careTeam![0]!.role!.coding![0]!.code = 'supervisor') })).toEqual(['scrub-rendering-provider']);
    const badNpi = scrub({ resources: (r) => void (get<Practitioner>(r, REF.maria).identifier![0]!.value = '1942837460') });
    expect(badNpi.map((f) => [f.ruleId, f.expression[0]])).toEqual([['scrub-rendering-provider', 'Claim.careTeam[0].provider']]);
  });

  it('no open error-level documentation finding for the session', () => {
    const open: OpenFinding[] = [
      { ruleId: 'doc-progress-report', severity: 'error', message: 'No progress report in the last 10 treatment days.', reference: 'DetectedIssue/7' },
      { ruleId: 'doc-frequency', severity: 'warning', message: '13 visits in 42 days.' },
    ];
    const result = scrub({ openFindings: open });
    expect(result.map((f) => [f.ruleId, f.implicated])).toEqual([['scrub-open-documentation-findings', [REF.encounter, 'DetectedIssue/7']]]);
    expect(result[0]!.message).toMatch(/1 open documentation finding\(s\) that block billing: doc-progress-report: No progress report/);
    expect(scrub({ openFindings: [open[1]!] })).toEqual([]);
  });
});
