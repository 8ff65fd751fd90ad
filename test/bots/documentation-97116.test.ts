/**
 * The 97116 documentation bot through HTTP (DOMAIN-97116 §C, STYLE 7): the guide's complete example session has no
 * finding; removing each documented element produces exactly the expected finding and no other; every rule has a
 * session that passes it and one that fails it. Findings are read back twice: from the write's response and as the
 * open DetectedIssues of the patient.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { BundleEntry } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { EXT, openFindings, post, postSession, rulesOf, sessionBundle, urn, type Parts } from './session.js';

const withoutExt = (resource: any, name: string) => {
  resource.extension = (resource.extension ?? []).filter((e: any) => e.url !== EXT(name));
  if (resource.extension.length === 0) delete resource.extension;
};
const withoutNote = (resource: any, prefix: string) => {
  resource.note = resource.note.filter((n: any) => !n.text.startsWith(prefix));
};

/** Removing one documented element -> exactly these open findings (`rule@subject`). */
const REMOVALS: Array<[string, (p: Parts) => void, string[]]> = [
  ['performer.function of the 97116 (a Practitioner actor has no known role)', (p) => delete p.gait.performer[0].function, ['c1-qualified-performer@gait']],
  ['the PTA role code (97110 furnished by an actor of no known role)', (p) => delete p.ptaRole.code, ['c1-qualified-performer@exercise']],
  ['the supervising PT from the Encounter (the PTA is alone on the session)', (p) => (p.encounter.participant = p.encounter.participant.slice(1)), ['c1-qualified-performer@exercise']],
  ['reasonReference of the 97116 (the Encounter diagnoses still support it)', (p) => delete p.gait.reasonReference, []],
  ['every diagnosis (reasonReference and Encounter.diagnosis)', (p) => {
    for (const procedure of [p.gait, p.exercise, p.activities]) delete procedure.reasonReference;
    delete p.encounter.diagnosis;
  }, ['c2-diagnosis@activities', 'c2-diagnosis@exercise', 'c2-diagnosis@gait']],
  ['basedOn of the 97116', (p) => delete p.gait.basedOn, ['c3-plan-of-care@gait']],
  ['CarePlan.goal', (p) => delete p.plan.goal, ['c3-functional-goals@gait']],
  ['the functional goals (both reclassified as strength, ICF b730)', (p) => {
    for (const goal of [p.walkGoal, p.stairsGoal]) goal.category = [{ coding: [{ system: 'http://hl7.org/fhir/sid/icf', code: 'b730' }] }];
    for (const goal of [p.walkGoal, p.stairsGoal]) delete goal.meta;
  }, ['c3-functional-goals@gait']],
  ['the prior level of function Observation', (p) => delete p.priorLevel, ['c4-prior-level-of-function@encounter']],
  ['assistance-level on the 97116 and on the gait speed Observation', (p) => {
    withoutExt(p.gait, 'assistance-level');
    withoutExt(p.gaitSpeed, 'assistance-level');
  }, ['c4-assistance@gait']],
  ['assistance-type on the 97116', (p) => withoutExt(p.gait, 'assistance-type'), ['c4-assistance@gait']],
  ['assistance-level on the 97116 only (the gait speed Observation still has it)', (p) => withoutExt(p.gait, 'assistance-level'), []],
  ['CarePlan.addresses', (p) => delete p.plan.addresses, ['c5-impairments@encounter']],
  ['the "Techniques:" note of the 97116', (p) => withoutNote(p.gait, 'Techniques:'), ['c6-skilled-intervention@gait']],
  ['the "Instructions:" note of the 97116', (p) => withoutNote(p.gait, 'Instructions:'), ['c6-skilled-intervention@gait']],
  ['the "Response:" note of the 97116', (p) => withoutNote(p.gait, 'Response:'), ['c6-skilled-intervention@gait']],
  ['the notes of the 97110', (p) => delete p.exercise.note, ['c6-skilled-intervention@exercise']],
  ['timed-minutes of the 97116 (its 25-minute period then counts: 55 > 53)', (p) => withoutExt(p.gait, 'timed-minutes'), ['c7-total-treatment-time@encounter']],
  ['both outcome Observations', (p) => {
    delete p.gaitSpeed;
    delete p.tug;
  }, ['c8-outcome-measures@encounter']],
  ['CarePlan.author (not certified yet, within 30 days)', (p) => delete p.plan.author, ['c10-certification-due@encounter']],
  ['the signature Provenance', (p) => delete p.signature, ['c11-signature@encounter']],
  ['distinct-service of the 97530 (NCCI pair 97530/97116)', (p) => withoutExt(p.activities, 'distinct-service'), ['c14-distinct-service@gait']],
];

describeEachEngine('documentation-97116: the example session and each documented element', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('the complete example session has no finding', async () => {
    const posted = await postSession(s.baseUrl, sessionBundle());
    expect(posted.reported).toEqual([]);
    expect(await openFindings(s.baseUrl, posted.keys)).toEqual([]);
  });

  it.each(REMOVALS)('without %s: exactly the expected finding', async (_label, edit, expected) => {
    const posted = await postSession(s.baseUrl, sessionBundle(edit));
    expect(await openFindings(s.baseUrl, posted.keys)).toEqual(expected);
    expect(posted.reported).toEqual(rulesOf(expected));
  });
});

/** A finished session of the same episode on `date`, without procedures (a prior treatment day). */
const priorSession = (date: string, extra: object = {}): BundleEntry =>
  post({
    resourceType: 'Encounter',
    status: 'finished',
    class: { system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'AMB' },
    subject: { reference: urn('patient') },
    episodeOfCare: [{ reference: urn('episode') }],
    period: { start: `${date}T09:00:00-05:00`, end: `${date}T09:45:00-05:00` },
    ...extra,
  } as any);

const progressReport = (date: string, author: string): BundleEntry =>
  post({
    resourceType: 'DocumentReference',
    status: 'current',
    type: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/document-type', code: 'progress-report' }] },
    subject: { reference: urn('patient') },
    date: `${date}T17:00:00-05:00`,
    author: [{ reference: author }],
    content: [{ attachment: { contentType: 'text/plain', data: 'UHJvZ3Jlc3MgcmVwb3J0' } }],
    context: { encounter: [{ reference: urn('episode') }] },
  } as any);

const days = (from: number, count: number, month = '2026-11') => Array.from({ length: count }, (_, i) => `${month}-${String(from + i).padStart(2, '0')}`);

describeEachEngine('documentation-97116: each rule passes and fails', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const check = async (edit: ((p: Parts) => void) | undefined, extra: BundleEntry[], expected: string[]) => {
    const posted = await postSession(s.baseUrl, sessionBundle(edit, extra));
    expect(await openFindings(s.baseUrl, posted.keys)).toEqual(expected);
    return posted;
  };

  it('c7-timed-minutes: a timed service without minutes fails; with performedPeriod it passes', async () => {
    // Without the profile (which would refuse it), a completed 97110 with no end time has unknown minutes.
    const noMinutes = (p: Parts) => {
      delete p.exercise.meta;
      delete p.exercise.performedPeriod.end;
    };
    await check(noMinutes, [], ['c7-timed-minutes@exercise']);
    await check((p) => delete p.exercise.meta, [], []);
    // Minutes that are there but are not minutes of a service (issue 25 §3): an extension of 0, and, with no
    // extension, a period that ends before it starts.
    await check((p) => p.exercise.extension.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes', valueInteger: 0 }), [], ['c7-timed-minutes@exercise']);
  });

  it('c7-total-treatment-time: no Encounter.length fails, a length of 53 for 53 timed minutes passes', async () => {
    await check((p) => {
      delete p.encounter.meta;
      delete p.encounter.length;
    }, [], ['c7-total-treatment-time@encounter']);
    await check((p) => (p.encounter.length.value = 52), [], ['c7-total-treatment-time@encounter']);
    await check((p) => (p.encounter.length.value = 53), [], []);
  });

  it('c9-progress-report: treatment day 11 without a report fails; a report by the PT passes; one by the PTA does not count', async () => {
    const prior = days(1, 9).map((d) => priorSession(d)).concat(priorSession('2026-10-31'));
    const failing = await check(undefined, prior, ['c9-progress-report@encounter']);
    const issue = failing.reply.body.entry?.find((e) => e.response?.location?.startsWith('Encounter/'))?.response?.outcome?.issue?.[0];
    expect(issue?.details?.text).toContain('treatment day 11 since the start of care (2026-10-31)');
    await check(undefined, [...prior, progressReport('2026-11-09', urn('pt'))], []);
    const byAssistant = await check(undefined, [...prior, progressReport('2026-11-09', urn('ptaRole'))], ['c9-progress-report@encounter']);
    const text = JSON.stringify(byAssistant.reply.body);
    expect(text).toContain('was written by an assistant and does not count');
  });

  it('c10-certification: an uncertified plan past 30 days fails; a late certification fails unless the delay is justified', async () => {
    const longAgo = (p: Parts) => {
      p.plan.period = { start: '2026-10-01', end: '2026-12-29' };
      delete p.plan.author;
    };
    await check(longAgo, [], ['c10-certification@encounter']);
    const late = (p: Parts) => (p.plan.created = '2026-12-20');
    await check(late, [], ['c10-certification@encounter']);
    await check((p) => {
      late(p);
      p.plan.extension = [{ url: EXT('justification'), valueString: 'Physician on leave until 12/18; certification requested 11/04.' }];
    }, [], []);
  });

  it('c10-plan-duration: a plan of care longer than 90 days fails; 90 days passes', async () => {
    await check((p) => (p.plan.period.end = '2027-02-15'), [], ['c10-plan-duration@encounter']);
    await check((p) => (p.plan.period.end = '2027-01-30'), [], []);
  });

  it('c12-frequency-review: 13 visits in 42 days fail without documented progress; a justification passes', async () => {
    // Two visits a day on six days, plus this session: 13 visits but 7 treatment days (no progress report is due yet).
    const visits = days(4, 6).flatMap((d) => [priorSession(d), priorSession(d)]);
    await check(undefined, visits, ['c12-frequency-review@encounter']);
    const justified = (p: Parts) => (p.encounter.extension = [{ url: EXT('justification'), valueString: 'Twice-daily gait training after a fall; stair goal progressing (4 to 8 steps).' }]);
    await check(justified, visits, []);
  });

  it('c13-fes: FES gait training needs a spinal cord injury diagnosis, the PT as performer and a walking goal', async () => {
    const fes = (p: Parts) => p.gait.usedCode.push({ coding: [{ system: 'http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets', code: 'E0764' }] });
    const failing = await check(fes, [], ['c13-fes@gait']);
    expect(JSON.stringify(failing.reply.body)).toContain('document one of G82.20, G82.21, G82.22, G04.1');
    const sci = (p: Parts) => (p.gaitDx.code = { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'G82.21', display: 'Paraplegia, complete' }] });
    await check((p) => {
      fes(p);
      sci(p);
    }, [], []);
    await check((p) => {
      fes(p);
      sci(p);
      p.gait.performer = [{ actor: { reference: urn('ptaRole') } }];
    }, [], ['c13-fes@gait']);
  });

  it('the payer policy decides: a commercial coverage (SOPT 5) needs no certification, Medicare does', async () => {
    const uncertified = (p: Parts) => {
      p.plan.period = { start: '2026-10-01', end: '2026-12-29' };
      delete p.plan.author;
    };
    await check(uncertified, [], ['c10-certification@encounter']);
    await check((p) => {
      uncertified(p);
      p.coverage.type.coding[0] = { system: 'urn:oid:2.16.840.1.113883.3.221.5', code: '5', display: 'PRIVATE HEALTH INSURANCE' };
    }, [], []);
  });
});

describeEachEngine('documentation-97116: a payer policy with a covered-diagnosis list', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_POLICIES_DIR: 'test/bots/fixtures/policies-covered' });
  });
  afterAll(async () => s?.close());

  it('c2-covered-diagnosis: R26.89 is on the list (R26); M17.11 alone is not', async () => {
    const covered = await postSession(s.baseUrl, sessionBundle());
    expect(await openFindings(s.baseUrl, covered.keys)).toEqual([]);
    const uncovered = await postSession(s.baseUrl, sessionBundle((p) => (p.gaitDx.code = { coding: [{ system: 'http://hl7.org/fhir/sid/icd-10-cm', code: 'M17.11' }] })));
    expect(await openFindings(s.baseUrl, uncovered.keys)).toEqual(['c2-covered-diagnosis@activities', 'c2-covered-diagnosis@exercise', 'c2-covered-diagnosis@gait']);
  });
});
