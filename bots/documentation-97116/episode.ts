/**
 * Episode-level facts for the progress-report, certification and frequency rules: the episode's sessions (treatment
 * days) and its progress reports, read once per session evaluation.
 */
import type { DocumentReference, Encounter } from '@medplum/fhirtypes';
import { referenceKey } from '../../src/bots/index.js';
import { SYSTEMS } from './codes.js';
import { dateOf } from './dates.js';
import { memo, type Session } from './session.js';
import { resolveRole } from './roles.js';

export interface EpisodeSession {
  key: string;
  date: string;
}

/** `EpisodeOfCare/id` of the session, if it names one. */
export function episodeOf(session: Session): string | undefined {
  return (session.encounter?.episodeOfCare ?? []).map((r) => referenceKey(r)).find((k) => k?.startsWith('EpisodeOfCare/'));
}

/** The episode's finished sessions up to the date of service (this one included), oldest first. */
export function episodeSessions(session: Session): Promise<EpisodeSession[]> {
  return memo(session, 'episode-sessions', async () => {
    const episode = episodeOf(session);
    const date = session.date;
    if (!episode || !date) return [];
    const encounters = await session.ctx.search<Encounter>('Encounter', { 'episode-of-care': episode });
    const own = session.encounter;
    const list = encounters.filter((e) => e.status === 'finished' || (own && e.id === own.id));
    return list
      .map((e) => ({ key: `Encounter/${e.id}`, date: dateOf(e.period?.start) ?? '' }))
      .filter((s) => s.date && s.date <= date)
      .sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  });
}

/** Distinct dates with a session: the "treatment days" MBPM §220.3.D counts. */
export function treatmentDays(sessions: EpisodeSession[]): string[] {
  return [...new Set(sessions.map((s) => s.date))];
}

export interface ProgressReport {
  key: string;
  date: string;
  /** Written by an assistant (it does not count, MBPM §220.3.D). */
  byAssistant: boolean;
}

/** The episode's current progress reports dated up to the date of service, oldest first. */
export function progressReports(session: Session): Promise<ProgressReport[]> {
  return memo(session, 'progress-reports', async () => {
    const episode = episodeOf(session);
    const date = session.date;
    if (!session.patientKey || !date) return [];
    const docs = await session.ctx.search<DocumentReference>('DocumentReference', { subject: session.patientKey, type: `${SYSTEMS.documentType}|progress-report` });
    const sessionKeys = new Set((await episodeSessions(session)).map((s) => s.key));
    const reports: ProgressReport[] = [];
    for (const doc of docs) {
      if (doc.status !== 'current') continue;
      const about = (doc.context?.encounter ?? []).map((r) => referenceKey(r));
      if (about.length && !about.some((k) => k === episode || (k && sessionKeys.has(k)))) continue;
      const reportDate = dateOf(doc.date);
      if (!reportDate || reportDate > date) continue;
      const authors = await Promise.all((doc.author ?? []).map((a) => resolveRole(session, a, undefined, true)));
      reports.push({ key: `DocumentReference/${doc.id}`, date: reportDate, byAssistant: authors.length > 0 && authors.every((a) => a.assistant) });
    }
    return reports.sort((a, b) => (a.date < b.date ? -1 : a.date > b.date ? 1 : 0));
  });
}
