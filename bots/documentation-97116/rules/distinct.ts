/**
 * DOMAIN §C.14: when 97116 shares a session with 97535, 97760 or 97761 (seed) or with a code it forms an NCCI
 * procedure-to-procedure pair with (where a modifier is allowed), the documentation says the services were distinct
 * (separate 15-minute blocks): the distinct-service extension on either procedure (profiles/README.md §5).
 */
import type { Procedure } from '@medplum/fhirtypes';
import { PTP_PAIRS } from '../../../src/billing/modifiers.js';
import { computedRule, type Problem } from '../rule.js';
import { EXTENSIONS, GAIT_TRAINING, SEED_DISTINCT_PAIRS, SOURCES } from '../codes.js';
import { cptCode, keyOf } from '../session.js';

/** Codes that need distinct documentation with 97116: the seed's three and the NCCI pairs that allow a modifier. */
function partnersOfGaitTraining(): Map<string, string> {
  const partners = new Map<string, string>(SEED_DISTINCT_PAIRS.map((c) => [c, 'seed: distinct from home management, orthotic or prosthetic training']));
  for (const pair of PTP_PAIRS) {
    if (pair.modifierIndicator !== '1') continue;
    if (pair.column2 === GAIT_TRAINING) partners.set(pair.column1, `NCCI PTP pair ${pair.column1}/${pair.column2}`);
    if (pair.column1 === GAIT_TRAINING) partners.set(pair.column2, `NCCI PTP pair ${pair.column1}/${pair.column2}`);
  }
  return partners;
}

const PARTNERS = partnersOfGaitTraining();

function statesDistinct(procedure: Procedure): boolean {
  const ext = procedure.extension?.find((e) => e.url === EXTENSIONS.distinctService);
  return !!ext?.extension?.some((e) => e.url === 'distinct' && e.valueBoolean === true);
}

export const distinctService = computedRule({
  id: 'c14-distinct-service',
  severity: 'error',
  subject: 'Procedure',
  title: 'Gait training with a paired service is documented as distinct',
  element: `Procedure.extension('${EXTENSIONS.distinctService}')`,
  source: 'seed: "why distinct intervention for gait training was administered in the same session as home management, orthotic training or prosthetic fitting and training"; NCCI PTP edits (modifier indicator 1: 59/X with documentation); DOMAIN-97116 §B, §C.14',
  reference: SOURCES.ncci,
  fix: 'State that the services were distinct: the distinct-service extension (distinct = true, text = the separate time block) on the 97116 Procedure or on the paired one.',
  applies: (procedure) => cptCode(procedure) === GAIT_TRAINING,
  async check(procedure, session) {
    const problems: Problem[] = [];
    for (const other of session.timed) {
      const code = cptCode(other) ?? '';
      const why = PARTNERS.get(code);
      if (other === procedure || !why || statesDistinct(procedure) || statesDistinct(other)) continue;
      problems.push({
        detail: `97116 and ${code} are in the same session (${why}): state that they were distinct services (separate 15-minute blocks) with the distinct-service extension on either Procedure.`,
        implicated: [keyOf(other)],
      });
    }
    return problems;
  },
});
