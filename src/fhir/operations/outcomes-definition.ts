/** The OperationDefinitions of $outcomes (system level and Patient instance level), served at OperationDefinition/[id]. */
import type { OperationDefinition } from '@medplum/fhirtypes';

export const OUTCOMES_DEFINITIONS = {
  system: 'http://stride-fhir.org/fhir/OperationDefinition/outcomes',
  patient: 'http://stride-fhir.org/fhir/OperationDefinition/Patient-outcomes',
} as const;

type Parameter = NonNullable<OperationDefinition['parameter']>[number];
const param = (name: string, max: string, type: string, documentation: string): Parameter => ({ name, use: 'in', min: 0, max, type: type as Parameter['type'], documentation });

const FILTERS: Parameter[] = [
  param('clinic', '1', 'string', 'Organization/[id] (or the id): outcomes of episodes with a session at this clinic (Encounter.serviceProvider).'),
  param('therapist', '1', 'string', "Practitioner/[id] or PractitionerRole/[id]: outcomes measured by this therapist (Observation.performer) or of episodes with a session they took part in (Encounter.participant; a Practitioner also matches their PractitionerRoles)."),
  param('payer', '1', 'string', "Organization/[id] of a payer: outcomes of patients with a Coverage from this payer whose period overlaps the measurements'."),
  param('diagnosis', '1', 'string', 'A diagnosis code (ICD-10-CM), or its start (R26 takes R26.89), optionally system|code: outcomes of episodes whose sessions name such a Condition (Encounter.diagnosis).'),
  param('period', '*', 'string', 'A date with a FHIR search prefix (eq, ge, gt, le, lt), repeatable: only measurements in the period count (baseline and latest are the first and last inside it). E.g. period=ge2026-01-01&period=lt2026-07-01.'),
  param('_format', '1', 'code', 'json (default) | csv | svg, or application/json, text/csv, image/svg+xml; without it the Accept header decides.'),
];

const OUTPUT: Parameter = {
  name: 'return',
  use: 'out',
  min: 1,
  max: '1',
  type: 'Binary',
  documentation:
    'The HTTP body, not a Parameters resource. JSON: {generated, filters, summary: [per measure: outcomes, withChange, reachingMcid, meanChange, medianChange, mcid], outcomes: [patient, episode, measure, name, unit, better, measurements, baseline {date, value, observation}, latest, change, improvement, mcid {value, population, kind, source} | null, reachesMcid, visits, units, points (Patient level)], excluded: [observation, reason]}. CSV: one line per outcome. SVG: a Vega-Lite chart rendered on the server (a patient: measurements over time over the MCID band; a cohort: the distribution of changes over the band).',
};

const base = {
  resourceType: 'OperationDefinition' as const,
  version: '0.1.0',
  status: 'active' as const,
  kind: 'operation' as const,
  publisher: 'Stride',
  affectsState: false,
  code: 'outcomes',
};

const DESCRIPTION =
  "Each outcome measure (Observations of the guide's outcome_observation view: gait speed, 6-minute walk, Timed Up and Go, 30-second sit-to-stand, and other measures by their code) per patient, episode of care and measure: the baseline (first measurement) and latest, the change and the improvement (the change, or its opposite where lower is better), whether the improvement reaches the measure's minimal clinically important difference (Stride's data file of published MCIDs, with their sources), and between the baseline's and the latest's dates the visits (finished sessions) and units billed (ChargeItems: planned, billable, billed).";

export const OUTCOMES_OPERATIONS: OperationDefinition[] = [
  { ...base, id: 'outcomes', url: OUTCOMES_DEFINITIONS.system, name: 'Outcomes', title: 'Outcome measures of a cohort', description: DESCRIPTION, system: true, type: false, instance: false, parameter: [...FILTERS, OUTPUT] },
  {
    ...base,
    id: 'Patient-outcomes',
    url: OUTCOMES_DEFINITIONS.patient,
    name: 'PatientOutcomes',
    title: "Outcome measures of a patient",
    description: `${DESCRIPTION} For one patient, with every measurement (points).`,
    resource: ['Patient'],
    system: false,
    type: false,
    instance: true,
    parameter: [...FILTERS, OUTPUT],
  },
];
