/** Every rule of DOMAIN-97116.md §C (1-14), in that order. */
import type { DocRule } from '../rule.js';
import { qualifiedPerformer } from './performer.js';
import { coveredDiagnosis, diagnosis } from './diagnosis.js';
import { functionalGoals, impairments, planOfCare } from './plan-of-care.js';
import { assistance, priorLevelOfFunction } from './function.js';
import { skilledIntervention } from './notes.js';
import { timedMinutes, totalTreatmentTime } from './minutes.js';
import { outcomeMeasures } from './outcomes.js';
import { frequencyReview, progressReport } from './progress.js';
import { certification, certificationDue, planDuration } from './certification.js';
import { signature } from './signature.js';
import { fes } from './fes.js';
import { distinctService } from './distinct.js';

export const RULES: ReadonlyArray<DocRule<'Procedure'> | DocRule<'Encounter'>> = [
  qualifiedPerformer,
  diagnosis,
  coveredDiagnosis,
  planOfCare,
  functionalGoals,
  priorLevelOfFunction,
  assistance,
  impairments,
  skilledIntervention,
  timedMinutes,
  totalTreatmentTime,
  outcomeMeasures,
  progressReport,
  certification,
  certificationDue,
  planDuration,
  signature,
  frequencyReview,
  fes,
  distinctService,
];

export const PROCEDURE_RULES = RULES.filter((r): r is DocRule<'Procedure'> => r.subject === 'Procedure');
export const ENCOUNTER_RULES = RULES.filter((r): r is DocRule<'Encounter'> => r.subject === 'Encounter');
