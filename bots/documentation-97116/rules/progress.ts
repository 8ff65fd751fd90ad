/**
 * DOMAIN §C.9: a progress report at least once every 10 treatment days, written by the therapist, not the assistant
 * (MBPM ch. 15 §220.3.D). DOMAIN §C.12: continued gait training beyond 12-18 visits within 4-6 weeks needs supporting
 * documentation (seed; policy `frequencyReview`, Medicare default 12 visits in 42 days).
 */
import { computedRule } from '../rule.js';
import { EXTENSIONS, GAIT_TRAINING, SOURCES } from '../codes.js';
import { cptCode } from '../session.js';
import { addDays } from '../dates.js';
import { episodeOf, episodeSessions, progressReports, treatmentDays } from '../episode.js';

export const progressReport = computedRule({
  id: 'c9-progress-report',
  policyFields: ['progressReport'],
  severity: 'error',
  subject: 'Encounter',
  title: 'A progress report at least every 10 treatment days, by the therapist',
  element: 'DocumentReference',
  source: 'MBPM ch. 15 §220.3.D (progress report at least once every 10 treatment days, written by the clinician, not the assistant); DOMAIN-97116 §C.9; policy progressReport',
  reference: SOURCES.mbpm,
  fix: 'Write a progress report: a DocumentReference of type progress-report, authored by the PT or OT (not the assistant), dated on or before this session, with context = the EpisodeOfCare.',
  applies: (_encounter, session) => !!session.policy.documentation.progressReport && !!episodeOf(session),
  async check(_encounter, session) {
    const every = session.policy.documentation.progressReport?.everyTreatmentDays ?? 10;
    const days = treatmentDays(await episodeSessions(session));
    if (days.length <= every) return [];
    const reports = await progressReports(session);
    const valid = reports.filter((r) => !r.byAssistant);
    const last = valid[valid.length - 1];
    const since = last ? days.filter((d) => d > last.date) : days;
    if (since.length <= every) return [];
    const from = last ? `the progress report of ${last.date}` : `the start of care (${days[0]})`;
    const assistants = reports.filter((r) => r.byAssistant && (!last || r.date > last.date));
    const note = assistants.length ? ` The report of ${assistants.map((r) => r.date).join(', ')} was written by an assistant and does not count.` : '';
    return [{
      detail: `This session is treatment day ${since.length} since ${from}: a progress report by the therapist is due at least every ${every} treatment days.${note} Write one (DocumentReference type progress-report, authored by the PT or OT).`,
      implicated: [...(last ? [last.key] : []), ...assistants.map((r) => r.key)],
    }];
  },
});

export const frequencyReview = computedRule({
  id: 'c12-frequency-review',
  policyFields: ['frequencyReview'],
  severity: 'warning',
  subject: 'Encounter',
  title: 'Continued gait training beyond the visit threshold shows continued progress',
  element: 'DocumentReference',
  source: 'seed: "support for continued gait training beyond 12-18 visits within a 4-6-week period, reporting continued progress"; DOMAIN-97116 §C.12; policy frequencyReview',
  reference: SOURCES.mbpm,
  fix: 'Document continued progress: a progress report by the therapist within the window, or the justification extension on the Encounter, the 97116 Procedure or the plan of care.',
  applies: (_encounter, session) => !!session.policy.documentation.frequencyReview && !!episodeOf(session) && session.timed.some((p) => cptCode(p) === GAIT_TRAINING),
  async check(encounter, session) {
    const { maxVisits, windowDays } = session.policy.documentation.frequencyReview ?? { maxVisits: 12, windowDays: 42 };
    const date = session.date as string;
    const start = addDays(date, -(windowDays - 1));
    const visits = (await episodeSessions(session)).filter((s) => s.date >= start);
    if (visits.length <= maxVisits) return [];
    const justified =
      [encounter, ...session.timed, ...session.plans.values()].some((r) => (r.extension ?? []).some((e) => e.url === EXTENSIONS.justification)) ||
      (await progressReports(session)).some((r) => !r.byAssistant && r.date >= start);
    if (justified) return [];
    return [{
      detail: `${visits.length} visits from ${start} to ${date} (more than ${maxVisits} in ${windowDays} days): continued gait training needs documented continued progress. Write a progress report, or add the justification extension to the Encounter or the 97116 Procedure.`,
      expression: ['Encounter.extension', 'DocumentReference'],
    }];
  },
});
