/**
 * DOMAIN §C.7: timed-code minutes for each timed service and the total treatment time; the minutes must fit in it
 * (MBPM ch. 15 §220.3.E; Pub 100-04 ch. 5 §20.2). Minutes per the guide's contract (§3.1), read as billing reads them
 * (src/billing/session.ts readMinutes): the timed-minutes extension, else performedPeriod end - start in whole
 * minutes, rounded down; zero or negative minutes (a reversed period) are no minutes.
 */
import type { Procedure } from '@medplum/fhirtypes';
import { readMinutes } from '../../../src/billing/session.js';
import { computedRule } from '../rule.js';
import { SOURCES } from '../codes.js';
import { cptCode, keyOf } from '../session.js';

export function minutesOf(procedure: Procedure): number | undefined {
  return readMinutes(procedure).minutes ?? undefined;
}

const SOURCE = 'MBPM ch. 15 §220.3.E (document timed code minutes and total treatment time); Pub 100-04 ch. 5 §20.2; DOMAIN-97116 §C.7';

export const timedMinutes = computedRule({
  id: 'c7-timed-minutes',
  severity: 'error',
  subject: 'Procedure',
  title: 'The timed minutes of the service are documented, more than zero',
  element: 'Procedure.extension',
  source: SOURCE,
  reference: SOURCES.mbpm,
  fix: 'Record the one-on-one minutes: the timed-minutes extension (whole minutes above 0), or performedPeriod with both start and end, the end after the start.',
  async check(procedure) {
    const { problem } = readMinutes(procedure);
    if (problem === null) return [];
    return [{ detail: `The minutes of this timed service are unknown: ${problem}. Add the timed-minutes extension, or performedPeriod with both start and end (the end after the start). Without minutes it earns no units, and its claim is held.` }];
  },
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
