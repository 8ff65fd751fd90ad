/**
 * DOMAIN §C.7: timed-code minutes for each timed service and the total treatment time; the minutes must fit in it
 * (MBPM ch. 15 §220.3.E; Pub 100-04 ch. 5 §20.2). Minutes per the guide's contract (§3.1): the timed-minutes
 * extension, else performedPeriod end - start in whole minutes, rounded down.
 */
import type { Procedure } from '@medplum/fhirtypes';
import { computedRule, fhirPathRule } from '../rule.js';
import { EXTENSIONS, SOURCES } from '../codes.js';
import { cptCode, keyOf } from '../session.js';

export function minutesOf(procedure: Procedure): number | undefined {
  const ext = procedure.extension?.find((e) => e.url === EXTENSIONS.timedMinutes);
  if (typeof ext?.valueInteger === 'number') return ext.valueInteger;
  const { start, end } = procedure.performedPeriod ?? {};
  if (!start || !end) return undefined;
  const ms = Date.parse(end) - Date.parse(start);
  return Number.isNaN(ms) ? undefined : Math.floor(ms / 60_000);
}

const SOURCE = 'MBPM ch. 15 §220.3.E (document timed code minutes and total treatment time); Pub 100-04 ch. 5 §20.2; DOMAIN-97116 §C.7';

export const timedMinutes = fhirPathRule({
  id: 'c7-timed-minutes',
  severity: 'error',
  subject: 'Procedure',
  title: 'The timed minutes of the service are documented',
  element: 'Procedure.extension',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Record the one-on-one minutes: the timed-minutes extension, or performedPeriod with both start and end.',
  checks: [
    {
      expression: `extension('${EXTENSIONS.timedMinutes}').value.exists() or (performed.ofType(Period).start.exists() and performed.ofType(Period).end.exists())`,
      detail: 'The minutes of this timed service are unknown: add the timed-minutes extension, or performedPeriod with both start and end. Without minutes it earns no units.',
    },
  ],
});

export const totalTreatmentTime = computedRule({
  id: 'c7-total-treatment-time',
  severity: 'error',
  subject: 'Encounter',
  title: 'The total treatment time is documented and the timed minutes fit in it',
  element: 'Encounter.length',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Record the total treatment time in Encounter.length (minutes); it must be at least the sum of the timed minutes.',
  async check(encounter, session) {
    const length = encounter.length;
    if (length?.value === undefined || (length.code && length.code !== 'min')) {
      return [{ detail: 'The total treatment time is not documented: record it in Encounter.length in minutes (UCUM "min").' }];
    }
    const known = session.timed.map((p) => ({ p, minutes: minutesOf(p) })).filter((x) => x.minutes !== undefined);
    const total = known.reduce((sum, x) => sum + (x.minutes as number), 0);
    if (total <= length.value) return [];
    const parts = known.map((x) => `${cptCode(x.p)} ${x.minutes}`).join(' + ');
    return [{
      detail: `The timed minutes (${parts} = ${total}) exceed the total treatment time of ${length.value} minutes in Encounter.length: correct the minutes or the total so that the units billed are supported.`,
      implicated: known.map((x) => keyOf(x.p)),
      expression: ['Encounter.length', 'Procedure.extension'],
    }];
  },
});
