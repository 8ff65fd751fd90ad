/** DOMAIN §C.4: the prior level of function and the level and type of assistance are documented. */
import type { Observation } from '@medplum/fhirtypes';
import { referenceKey } from '../../../src/bots/index.js';
import { fhirPathRule } from '../rule.js';
import { EXTENSIONS, GAIT_TRAINING, PRIOR_LEVEL_CODES, SOURCES, SYSTEMS } from '../codes.js';
import { cptCode, keyOf, memo, type Session } from '../session.js';
import { dateOf } from '../dates.js';

/** The patient's prior-level-of-function Observations recorded up to the date of service. */
function priorLevel(session: Session): Promise<Observation[]> {
  return memo(session, 'prior-level', async () => {
    if (!session.patientKey) return [];
    const isPriorLevel = (o: Observation) =>
      referenceKey(o.subject) === session.patientKey && !!o.code?.coding?.some((c) => c.system === SYSTEMS.loinc && PRIOR_LEVEL_CODES.includes(c.code ?? ''));
    const recorded = (o: Observation) => !session.date || (dateOf(o.effectiveDateTime ?? o.effectivePeriod?.start ?? o.issued) ?? '') <= session.date;
    // Written with this session (an evaluation's transaction): no need to search.
    const written = session.ctx.changed<Observation>('Observation').filter((o) => isPriorLevel(o) && recorded(o));
    if (written.length) return written;
    const found = await session.ctx.search<Observation>('Observation', { subject: session.patientKey, code: PRIOR_LEVEL_CODES.map((c) => `${SYSTEMS.loinc}|${c}`).join(',') });
    return found.filter(recorded);
  });
}

export const priorLevelOfFunction = fhirPathRule({
  id: 'c4-prior-level-of-function',
  severity: 'warning',
  subject: 'Encounter',
  title: 'The prior level of function is documented',
  element: 'Observation.code',
  source: 'seed: "Ensure the prior functional level of function and level of assistance required is documented"; MBPM ch. 15 §220.3 (evaluation); DOMAIN-97116 §C.4',
  reference: SOURCES.mbpm,
  fix: 'Record an Observation of the patient coded LOINC 85071-9 (prior indoor mobility) or 85070-1 (prior self-care), valued with the level of assistance before the onset.',
  checks: [
    {
      expression: "%priorLevel.where(status = 'final' or status = 'amended' or status = 'corrected').exists()",
      detail: 'The prior level of function is not documented: record an Observation coded LOINC 85071-9 (prior indoor mobility) or 85070-1 (prior self-care) with the level of assistance before the onset.',
    },
  ],
  env: async (_encounter, session) => ({ priorLevel: await priorLevel(session) }),
});

const LEVEL = `extension('${EXTENSIONS.assistanceLevel}')`;
const TYPE = `extension('${EXTENSIONS.assistanceType}')`;

export const assistance = fhirPathRule({
  id: 'c4-assistance',
  severity: 'warning',
  subject: 'Procedure',
  title: 'The level and type of assistance in gait training are documented',
  element: 'Procedure.extension',
  source: 'seed: "level and type of assistance needed ... if the client requires verbal cueing with reasons why"; MBPM ch. 15 §220.3; DOMAIN-97116 §C.4',
  reference: SOURCES.mbpm,
  fix: 'Add the assistance-level and assistance-type extensions to the 97116 Procedure (or to an Observation of the session).',
  applies: (procedure) => cptCode(procedure) === GAIT_TRAINING,
  checks: [
    {
      expression: `${LEVEL}.exists() or %observations.where(${LEVEL}.exists()).exists()`,
      detail: 'The level of assistance is not documented: add the assistance-level extension (e.g. contact guard, minimal assist) to the 97116 Procedure or an Observation of the session.',
      expressionPath: `Procedure.extension('${EXTENSIONS.assistanceLevel}')`,
    },
    {
      expression: `${TYPE}.exists() or %observations.where(${TYPE}.exists()).exists()`,
      detail: 'The type of assistance is not documented: add the assistance-type extension (e.g. verbal cues, with the reason in its text) to the 97116 Procedure or an Observation of the session.',
      expressionPath: `Procedure.extension('${EXTENSIONS.assistanceType}')`,
    },
  ],
  env: (_procedure, session) => ({ observations: session.observations }),
  implicated: (_procedure, session) => (session.encounter ? [keyOf(session.encounter)] : []),
});
