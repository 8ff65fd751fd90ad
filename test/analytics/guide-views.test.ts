/**
 * The guide's ViewDefinitions (profiles/views/) against the guide's example session (profiles/examples/
 * session-complete.json, written as the transaction it is, with the bots that bill it): each view is stored as a
 * ViewDefinition (so it passes the model's validation) and run by id; its rows are the session's facts as
 * profiles/README.md §7 tells them.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const VIEWS = path.join(ROOT, 'profiles/views');
const SESSION = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/session-complete.json'), 'utf8')) as Bundle;

/** urn:uuid:...0001 -> the id the server gave, by the entry's position (the fullUrl's last digits). */
type Ids = (n: number) => string;

async function run(s: TestServer, id: string): Promise<Array<Record<string, unknown>>> {
  const res = await fhir(s.baseUrl, 'GET', `ViewDefinition/${id}/$run?_format=json`);
  expect(res.status, res.text).toBe(200);
  return res.body as Array<Record<string, unknown>>;
}

const byCpt = (rows: Array<Record<string, unknown>>): Array<Record<string, unknown>> => [...rows].sort((a, b) => String(a.cpt).localeCompare(String(b.cpt)));

describeEachEngine("The guide's views on the example session", (engine) => {
  let s: TestServer;
  let ids: Ids;
  beforeAll(async () => {
    s = await startTestServer(engine);
    const res = await fhir(s.baseUrl, 'POST', '', SESSION);
    expect(res.status, res.text).toBe(200);
    const map = new Map<string, string>();
    SESSION.entry?.forEach((e, i) => map.set(e.fullUrl as string, (res.body.entry[i].response.location as string).split('/')[1]));
    ids = (n) => map.get(`urn:uuid:3f2b6c1e-0000-4000-8000-${String(n).padStart(12, '0')}`) as string;
    for (const file of fs.readdirSync(VIEWS)) {
      const view = JSON.parse(fs.readFileSync(path.join(VIEWS, file), 'utf8'));
      const put = await fhir(s.baseUrl, 'PUT', `ViewDefinition/${view.id}`, view);
      expect(put.status, `${file}: ${put.text}`).toBe(201);
    }
  });
  afterAll(async () => s?.close());

  it('therapy_session: the session, its 53 minutes of treatment, episode, primary diagnosis and therapists', async () => {
    expect(await run(s, 'therapy-session')).toEqual([
      {
        id: ids(17),
        patient_id: ids(1),
        status: 'finished',
        class: 'AMB',
        start: '2026-11-10T09:00:00-05:00',
        end: '2026-11-10T09:55:00-05:00',
        total_minutes: 53,
        episode_id: ids(12),
        primary_condition_id: ids(10),
        primary_performer_id: ids(5),
        secondary_performer_id: ids(6),
        organization_id: ids(7),
      },
    ]);
  });

  it('therapy_procedure: the three services with their CPT codes, recorded minutes and performers', async () => {
    const common = { patient_id: ids(1), encounter_id: ids(17), status: 'completed' };
    expect(byCpt(await run(s, 'therapy-procedure'))).toEqual([
      { ...common, id: ids(19), cpt: '97110', cpt_display: 'Therapeutic exercise, each 15 minutes', start: '2026-11-10T09:25:00-05:00', end: '2026-11-10T09:40:00-05:00', timed_minutes: null, assistance_level: null, performer_id: ids(6), performer_function: null },
      { ...common, id: ids(18), cpt: '97116', cpt_display: 'Gait training (includes stair climbing), each 15 minutes', start: '2026-11-10T09:00:00-05:00', end: '2026-11-10T09:25:00-05:00', timed_minutes: 23, assistance_level: 'contact-guard', performer_id: ids(2), performer_function: '225100000X' },
      { ...common, id: ids(20), cpt: '97530', cpt_display: 'Therapeutic activities, direct one-on-one, each 15 minutes', start: '2026-11-10T09:40:00-05:00', end: '2026-11-10T09:55:00-05:00', timed_minutes: null, assistance_level: 'minimal', performer_id: ids(2), performer_function: '225100000X' },
    ]);
  });

  it('therapy_charge_line: the units the billing bot gave each procedure (53 minutes -> 97116 x2, 97110 x1, 97530 x1)', async () => {
    const rows = byCpt(await run(s, 'therapy-charge-line'));
    expect(rows.map((r) => [r.cpt, r.units, r.procedure_id, r.encounter_id, r.service_date])).toEqual([
      ['97110', 1, ids(19), ids(17), '2026-11-10'],
      ['97116', 2, ids(18), ids(17), '2026-11-10'],
      ['97530', 1, ids(20), ids(17), '2026-11-10'],
    ]);
  });

  it('outcome_observation: gait speed 0.62 m/s and TUG 16.2 s, not the prior level of function', async () => {
    const rows = (await run(s, 'outcome-observation')).sort((a, b) => String(a.measure).localeCompare(String(b.measure)));
    const common = { patient_id: ids(1), encounter_id: ids(17), status: 'final', code_system: 'http://loinc.org', performer_id: ids(2) };
    expect(rows).toEqual([
      { ...common, id: ids(21), measure: 'gait_speed', code: '83172-7', code_text: '4-metre gait speed', effective: '2026-11-10T09:03:00-05:00', value: 0.62, unit: 'm/s', assistance_level: 'contact-guard' },
      { ...common, id: ids(22), measure: 'tug', code: '89423-8', code_text: 'Timed Up and Go', effective: '2026-11-10T09:08:00-05:00', value: 16.2, unit: 's', assistance_level: null },
    ]);
  });
});
