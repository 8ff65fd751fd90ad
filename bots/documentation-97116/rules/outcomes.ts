/** DOMAIN §C.8: objective outcome measures on a routine basis (gait speed, distance, assistance, device ...). */
import { fhirPathRule } from '../rule.js';
import { GAIT_TRAINING, PRIOR_LEVEL_CODES, SOURCES, SYSTEMS } from '../codes.js';
import { cptCode } from '../session.js';

const NOT_PRIOR_LEVEL = `code.coding.where(system = '${SYSTEMS.loinc}' and (${PRIOR_LEVEL_CODES.map((c) => `code = '${c}'`).join(' or ')})).empty()`;

export const outcomeMeasures = fhirPathRule({
  id: 'c8-outcome-measures',
  severity: 'warning',
  subject: 'Encounter',
  title: 'An objective outcome measure is recorded in the gait-training session',
  element: 'Observation',
  source: 'seed: "Continue documenting objective outcome measurements for routine assessments"; MBPM ch. 15 §220.3 (objective measures of progress); DOMAIN-97116 §C.8, §E',
  reference: SOURCES.mbpm,
  fix: 'Record an Observation linked to the Encounter with a value: gait speed (LOINC 83172-7), Timed Up and Go (89423-8), six-minute walk (64098-7), distance or assistance level.',
  applies: (_encounter, session) => session.timed.some((p) => cptCode(p) === GAIT_TRAINING),
  checks: [
    {
      expression: `%observations.where((status = 'final' or status = 'amended' or status = 'corrected') and (value.exists() or component.value.exists()) and ${NOT_PRIOR_LEVEL}).exists()`,
      detail: 'No objective outcome measure in this gait-training session: record one as an Observation of the Encounter (gait speed 83172-7, Timed Up and Go 89423-8, six-minute walk 64098-7, distance, assistance level).',
    },
  ],
  env: (_encounter, session) => ({ observations: session.observations }),
});
