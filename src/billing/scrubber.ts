/**
 * The claim scrubber (DOMAIN-97116 §D): real-time checks a professional Claim must pass before it may become active,
 * for Claims the billing bot builds and Claims a client posts. Each check returns findings (all `error`); none means
 * clean. Other resources are read through `resolve`; the session's units and open documentation findings are inputs.
 */
import type { Claim, Coverage, Organization, Patient, Practitioner, PractitionerRole } from '@medplum/fhirtypes';
import { SYSTEMS, codingIn } from './codes.js';
import type { BillingFinding, OpenFinding } from './findings.js';
import { isValidNpi } from './npi.js';
import { scrubFinding, type ScrubContext } from './scrub-context.js';
import { checkItems } from './scrub-items.js';
import { resolveAs, type ResourceLookup } from './session.js';

export type { ScrubContext } from './scrub-context.js';

/** The Stride profile's ICD-10-CM shape (stride-claim-2): letter, digit, alphanumeric, then up to 4 after a dot. */
export const ICD10CM_PATTERN = /^[A-Z][0-9][0-9A-Z](\.?[0-9A-Z]{1,4})?$/;

export function scrubClaim(claim: Claim, ctx: ScrubContext): BillingFinding[] {
  return [
    ...checkBillingProvider(claim, ctx.resolve),
    ...checkPayer(claim, ctx.resolve),
    ...checkPatient(claim, ctx.resolve),
    ...checkDiagnoses(claim),
    ...checkItems(claim, ctx),
    ...checkRenderingProvider(claim, ctx.resolve),
    ...checkOpenFindings(claim, ctx.openFindings),
  ];
}

function npiOf(resource: { identifier?: { system?: string; value?: string }[] } | null): string | undefined {
  // Defensive: a resource stored before validation refused `identifier: ""` can still be read.
  return Array.isArray(resource?.identifier) ? resource.identifier.find((i) => i?.system === SYSTEMS.npi)?.value : undefined;
}

function npiProblem(npi: string | undefined): string | null {
  if (npi === undefined) return 'has no NPI identifier (system http://hl7.org/fhir/sid/us-npi)';
  if (!/^\d{10}$/.test(npi)) return `has NPI "${npi}", which is not 10 digits`;
  if (!isValidNpi(npi)) return `has NPI ${npi}, whose check digit fails the Luhn check (prefix 80840)`;
  return null;
}

/** 837P 2010AA: NM1*85 with XX + NPI, N3/N4 address, REF*EI tax id. */
function checkBillingProvider(claim: Claim, resolve: ResourceLookup): BillingFinding[] {
  const ref = claim.provider?.reference;
  const provider = resolveAs<Organization | Practitioner>(resolve, ref, 'Organization', 'Practitioner');
  if (!provider) return [scrubFinding('scrub-billing-npi', `The billing provider (Claim.provider ${ref ?? 'missing'}) is not a known Organization or Practitioner.`, 'Claim.provider', [ref])];
  const findings: BillingFinding[] = [];
  const problem = npiProblem(npiOf(provider));
  if (problem) findings.push(scrubFinding('scrub-billing-npi', `The billing provider ${problem}.`, 'Claim.provider', [ref]));
  const address = provider.address?.[0];
  const missing = [
    !provider.identifier?.some((i) => i.system === SYSTEMS.ein && i.value) ? 'tax id (EIN, urn:oid:2.16.840.1.113883.4.4)' : null,
    !address?.line?.[0] || !address.city || !address.state || !address.postalCode ? 'address (line, city, state, postal code)' : null,
  ].filter((m): m is string => m !== null);
  if (missing.length > 0) findings.push(scrubFinding('scrub-billing-provider', `The billing provider lacks ${missing.join(' and ')} (837P loop 2010AA).`, 'Claim.provider', [ref]));
  return findings;
}

function focalCoverage(claim: Claim, resolve: ResourceLookup): { ref: string | undefined; coverage: Coverage | null } {
  const insurance = claim.insurance?.find((i) => i.focal) ?? claim.insurance?.[0];
  const ref = insurance?.coverage?.reference;
  return { ref, coverage: resolveAs<Coverage>(resolve, ref, 'Coverage') };
}

/** 837P 2010BB payer (NM1*PR with the payer id) and 2010BA member id (NM1*IL ... MI). */
function checkPayer(claim: Claim, resolve: ResourceLookup): BillingFinding[] {
  const { ref, coverage } = focalCoverage(claim, resolve);
  if (!coverage) return [scrubFinding('scrub-payer', `The focal insurance (${ref ?? 'missing'}) is not a known Coverage.`, 'Claim.insurance.coverage', [ref])];
  const findings: BillingFinding[] = [];
  const payerRef = coverage.payor?.[0]?.reference;
  const payer = resolveAs<Organization>(resolve, payerRef, 'Organization');
  const payerId = payer?.identifier?.find((i) => i.system === SYSTEMS.payerId)?.value ?? payer?.identifier?.[0]?.value;
  if (!payer?.name || !payerId) {
    findings.push(scrubFinding('scrub-payer', `The payer (Coverage.payor ${payerRef ?? 'missing'}) needs an Organization with a name and a payer id (${SYSTEMS.payerId}).`, 'Claim.insurance.coverage', [ref, payerRef]));
  }
  const memberId = coverage.subscriberId ?? coverage.identifier?.find((i) => i.value)?.value;
  if (!memberId?.trim()) findings.push(scrubFinding('scrub-member-id', 'The Coverage has no member id (Coverage.subscriberId).', 'Claim.insurance.coverage', [ref]));
  return findings;
}

/** 837P 2010BA/2010CA: name, address (N3/N4), birth date and gender (DMG). */
function checkPatient(claim: Claim, resolve: ResourceLookup): BillingFinding[] {
  const ref = claim.patient?.reference;
  const patient = resolveAs<Patient>(resolve, ref, 'Patient');
  if (!patient) return [scrubFinding('scrub-patient-demographics', `The patient (${ref ?? 'missing'}) is not a known Patient.`, 'Claim.patient', [ref])];
  const name = patient.name?.find((n) => n.use === 'official') ?? patient.name?.[0];
  const address = patient.address?.[0];
  const missing = [
    !name?.family ? 'family name' : null,
    !name?.given?.[0] ? 'given name' : null,
    !patient.birthDate ? 'birth date' : null,
    patient.gender !== 'male' && patient.gender !== 'female' && patient.gender !== 'unknown' && patient.gender !== 'other' ? 'gender' : null,
    !address?.line?.[0] || !address.city || !address.state || !address.postalCode ? 'address (line, city, state, postal code)' : null,
  ].filter((m): m is string => m !== null);
  return missing.length === 0 ? [] : [scrubFinding('scrub-patient-demographics', `The patient record lacks ${missing.join(', ')}.`, 'Claim.patient', [ref])];
}

/** 837P HI: 1 to 12 ICD-10-CM codes (ABK principal, ABF others), well formed. */
function checkDiagnoses(claim: Claim): BillingFinding[] {
  const diagnoses = claim.diagnosis ?? [];
  const findings: BillingFinding[] = [];
  if (diagnoses.length === 0 || diagnoses.length > 12) {
    findings.push(scrubFinding('scrub-icd10', `A professional claim carries 1 to 12 diagnoses; this one has ${diagnoses.length}.`, 'Claim.diagnosis'));
  }
  diagnoses.forEach((d, i) => {
    const code = codingIn(d.diagnosisCodeableConcept, SYSTEMS.icd10cm)?.code;
    if (!code || !ICD10CM_PATTERN.test(code)) {
      const what = code ? `"${code}" is not a well-formed ICD-10-CM code` : 'has no ICD-10-CM code';
      findings.push(scrubFinding('scrub-icd10', `Diagnosis ${d.sequence ?? i + 1} ${what}.`, `Claim.diagnosis[${i}]`, [d.diagnosisReference?.reference]));
    }
  });
  return findings;
}

/** 837P 2310B: the rendering provider (careTeam role primary) is a Practitioner with a valid NPI. */
function checkRenderingProvider(claim: Claim, resolve: ResourceLookup): BillingFinding[] {
  const index = (claim.careTeam ?? []).findIndex((c) => c.role?.coding?.some((r) => r.system === SYSTEMS.careTeamRole && r.code === 'primary'));
  if (index < 0) return [scrubFinding('scrub-rendering-provider', 'The claim names no rendering provider (a careTeam entry with role primary).', 'Claim.careTeam')];
  const ref = claim.careTeam![index]!.provider?.reference;
  const found = resolveAs<Practitioner | PractitionerRole>(resolve, ref, 'Practitioner', 'PractitionerRole');
  const practitioner = found?.resourceType === 'PractitionerRole' ? resolveAs<Practitioner>(resolve, found.practitioner?.reference, 'Practitioner') : (found as Practitioner | null);
  if (!practitioner) return [scrubFinding('scrub-rendering-provider', `The rendering provider (${ref ?? 'missing'}) is not a known Practitioner.`, `Claim.careTeam[${index}].provider`, [ref])];
  const problem = npiProblem(npiOf(practitioner));
  return problem ? [scrubFinding('scrub-rendering-provider', `The rendering provider ${problem}.`, `Claim.careTeam[${index}].provider`, [ref])] : [];
}

/** No open error-level documentation finding for the session (DOMAIN §C findings block billing). */
function checkOpenFindings(claim: Claim, open: readonly OpenFinding[]): BillingFinding[] {
  const errors = open.filter((f) => f.severity === 'error');
  if (errors.length === 0) return [];
  const list = errors.map((f) => `${f.ruleId}: ${f.message}`).join('; ');
  return [scrubFinding('scrub-open-documentation-findings', `The session has ${errors.length} open documentation finding(s) that block billing: ${list}`, 'Claim.item.encounter', [claim.item?.[0]?.encounter?.[0]?.reference, ...errors.map((f) => f.reference)])];
}
