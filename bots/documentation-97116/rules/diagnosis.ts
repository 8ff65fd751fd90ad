/** DOMAIN §C.2: medical necessity: an ICD-10-CM diagnosis on the session; the payer's covered list if it has one. */
import { computedRule, fhirPathRule } from '../rule.js';
import { ICD10CM_PATTERN, SOURCES, SYSTEMS } from '../codes.js';
import { diagnosesOf, keyOf } from '../session.js';

// In a FHIRPath string a backslash escapes the next character: the regex's own backslashes are doubled.
const ICD = `system = '${SYSTEMS.icd10cm}' and code.matches('${ICD10CM_PATTERN.replaceAll('\\', '\\\\')}')`;

export const diagnosis = fhirPathRule({
  id: 'c2-diagnosis',
  severity: 'error',
  subject: 'Procedure',
  title: 'An ICD-10-CM diagnosis supports the service',
  element: 'Procedure.reasonReference',
  source: 'MBPM ch. 15 §220 (medical necessity; the diagnosis on the claim); DOMAIN-97116 §C.2',
  reference: SOURCES.mbpm,
  fix: 'Reference a Condition coded in ICD-10-CM from Procedure.reasonReference, or list it in Encounter.diagnosis.',
  checks: [
    {
      expression: `%diagnoses.code.coding.where(${ICD}).exists() or reasonCode.coding.where(${ICD}).exists()`,
      detail: `No ICD-10-CM diagnosis supports this service: reference a Condition coded in ICD-10-CM (${SYSTEMS.icd10cm}, e.g. R26.89) from Procedure.reasonReference, or list it in Encounter.diagnosis.`,
    },
  ],
  env: async (procedure, session) => ({ diagnoses: await diagnosesOf(procedure, session) }),
  implicated: (_procedure, session) => (session.encounter ? [keyOf(session.encounter)] : []),
});

export const coveredDiagnosis = computedRule({
  id: 'c2-covered-diagnosis',
  policyFields: ['coveredDiagnoses'],
  severity: 'error',
  subject: 'Procedure',
  title: "A diagnosis on the payer's covered list",
  element: 'Procedure.reasonReference',
  source: "DOMAIN-97116 §C.2 (the payer's covered-diagnosis list, when its policy has one: bots/policies/)",
  reference: SOURCES.mbpm,
  fix: 'Document a diagnosis the payer covers for therapy (see the payer policy), or check the coverage.',
  applies: (_procedure, session) => !!session.policy.documentation.coveredDiagnoses,
  async check(procedure, session) {
    const covered = session.policy.documentation.coveredDiagnoses ?? [];
    const codes = (await diagnosesOf(procedure, session)).flatMap((c) => (c.code?.coding ?? []).filter((k) => k.system === SYSTEMS.icd10cm).map((k) => k.code ?? ''));
    if (codes.length === 0 || codes.some((code) => covered.some((prefix) => code.startsWith(prefix)))) return [];
    return [{ detail: `None of the diagnoses (${codes.join(', ')}) is on the covered list of the payer policy "${session.policy.name}" (${covered.join(', ')}).` }];
  },
});
