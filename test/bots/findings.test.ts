/**
 * The life of a documentation finding through HTTP (DESIGN §6): one DetectedIssue per rule and subject, updated when
 * it changes, closed (status entered-in-error) when the documentation is fixed, never duplicated by a re-write; each
 * version has a Provenance naming the bot and the source versions; the write's response carries the open findings.
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, DetectedIssue, OperationOutcome, Provenance } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { RULE_SYSTEM, detectedIssues, documentationBotOnly, openFindings, post, postSession, sessionBundle, urn, type Parts } from './session.js';

const OO = { prefer: 'return=OperationOutcome' };
const noResponse = (p: Parts) => (p.gait.note = p.gait.note.filter((n: any) => !n.text.startsWith('Response:')));
const ruleOf = (i: DetectedIssue) => i.code?.coding?.[0]?.code;

describeEachEngine('documentation findings: DetectedIssue lifecycle and write responses', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, documentationBotOnly());
  });
  afterAll(async () => s?.close());

  const read = async (key: string) => (await fhir(s.baseUrl, 'GET', key)).body;
  const put = (resource: any, headers: Record<string, string> = {}) => fhir<any>(s.baseUrl, 'PUT', `${resource.resourceType}/${resource.id}`, resource, headers);

  it('a finding is one DetectedIssue: updated in place when it changes, closed when fixed, reopened, never duplicated', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle(noResponse));
    const [first] = await detectedIssues(s.baseUrl, keys.patient);
    expect(ruleOf(first)).toBe('c6-skilled-intervention');
    expect(first.status).toBe('final');
    expect(first.severity).toBe('high');
    expect(first.detail).toContain('Add a note starting "Response:"');
    expect(first.implicated?.map((r) => r.reference)).toEqual([keys.gait]);
    expect(first.patient?.reference).toBe(keys.patient);
    expect(first.reference).toMatch(/^https:\/\/www\.cms\.gov\//);
    expect(first.identifier?.[0]).toEqual({ system: 'http://stride-fhir.org/fhir/sid/bot-finding', value: `documentation-97116|c6-skilled-intervention|${keys.gait}` });

    // The same documentation written again: no new DetectedIssue, no new version.
    const gait = await read(keys.gait);
    await put(gait);
    let issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId])).toEqual([[first.id, '1']]);

    // The finding changes (the techniques go too): the same DetectedIssue, version 2, the new detail.
    gait.note = gait.note.filter((n: any) => !n.text.startsWith('Techniques:'));
    await put(gait);
    issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId, i.status])).toEqual([[first.id, '2', 'final']]);
    expect(issues[0].detail).toContain('"Techniques:"');
    expect(issues[0].identifiedDateTime).toBe(first.identifiedDateTime);

    // Fixed: closed as entered-in-error, and the write's response has no finding.
    const fixed = (await read(keys.gait)) as any;
    fixed.note = structuredClone(sessionBundle().entry?.find((e) => e.fullUrl === urn('gait'))?.resource as any).note;
    const reply = await put(fixed, OO);
    expect(reply.status).toBe(200);
    expect((reply.body as OperationOutcome).issue?.filter((i) => i.code === 'business-rule')).toEqual([]);
    issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId, i.status])).toEqual([[first.id, '3', 'entered-in-error']]);
    expect(await openFindings(s.baseUrl, keys)).toEqual([]);

    // Broken again: the same DetectedIssue reopens.
    noResponse({ gait: fixed });
    await put(fixed);
    issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId, i.status])).toEqual([[first.id, '4', 'final']]);
  });

  // The ids earlier releases gave the same finding: `dq-` and the subject's id and 24 hex digits of
  // SHA-256(bot|rule|subject) (the release before), `dq-` and 40 of those digits (the first ones).
  const EARLIER_FORMS: Array<[string, (subjectId: string, digest: string) => string]> = [
    ['dq-, the subject id and 24 digits', (subjectId, digest) => `dq-${subjectId}-${digest.slice(0, 24)}`],
    ['dq- and 40 digits', (_subjectId, digest) => `dq-${digest.slice(0, 40)}`],
  ];

  it.each(EARLIER_FORMS)("a finding's id is its subject's server-assigned id and 24 digits; one stored under an earlier id (%s) is kept, updated and closed", async (_form, earlierForm) => {
    const { keys } = await postSession(s.baseUrl, sessionBundle(noResponse));
    const [first] = await detectedIssues(s.baseUrl, keys.patient);
    const gaitId = keys.gait.split('/')[1];
    const digest = createHash('sha256').update(`documentation-97116|c6-skilled-intervention|${keys.gait}`).digest('hex');
    expect(first.id).toBe(`${gaitId}-${digest.slice(0, 24)}`);

    // As an earlier release stored it, and no other.
    const earlierId = earlierForm(gaitId, digest);
    const { meta: _meta, ...content } = first;
    expect((await put({ ...content, id: earlierId })).status).toBe(201);
    expect((await fhir(s.baseUrl, 'DELETE', `DetectedIssue/${first.id}`)).status).toBe(204);

    // The finding changes: the earlier DetectedIssue is its next version; none is added.
    const gait = await read(keys.gait);
    gait.note = gait.note.filter((n: any) => !n.text.startsWith('Techniques:'));
    const reply = await put(gait, OO);
    expect((reply.body as OperationOutcome).issue?.find((i) => i.code === 'business-rule')?.diagnostics).toContain(`DetectedIssue/${earlierId}`);
    let issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId, i.status])).toEqual([[earlierId, '2', 'final']]);
    expect(issues[0].detail).toContain('"Techniques:"');

    // Fixed: the earlier DetectedIssue is closed.
    gait.note = structuredClone(sessionBundle().entry?.find((e) => e.fullUrl === urn('gait'))?.resource as any).note;
    await put(gait);
    issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [i.id, i.meta?.versionId, i.status])).toEqual([[earlierId, '3', 'entered-in-error']]);
  });

  it("a new subject's finding is inserted unread; a DetectedIssue already stored under its id (a client id used again) becomes its next version", async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const gait = await read(keys.gait);
    const digest = createHash('sha256').update('documentation-97116|c6-skilled-intervention|Procedure/gait-again').digest('hex');
    const findingId = `dq-${digest.slice(0, 40)}`;
    // Left by an earlier life of Procedure/gait-again (its finding stays when the Procedure is deleted and purged).
    const left = { resourceType: 'DetectedIssue', id: findingId, status: 'entered-in-error', code: { text: 'left behind' } };
    expect((await put(left)).status).toBe(201);

    const { meta: _meta, ...content } = gait;
    const again = { ...content, id: 'gait-again' };
    noResponse({ gait: again });
    const reply = await put(again, OO);
    expect(reply.status).toBe(201);
    expect((reply.body as OperationOutcome).issue?.find((i) => i.code === 'business-rule')?.diagnostics).toContain(`DetectedIssue/${findingId}`);
    const issue = (await read(`DetectedIssue/${findingId}`)) as DetectedIssue;
    expect([issue.meta?.versionId, issue.status, ruleOf(issue)]).toEqual(['2', 'final', 'c6-skilled-intervention']);
    expect(issue.implicated?.map((r) => r.reference)).toEqual(['Procedure/gait-again']);

    // A new subject whose finding id is free: version 1.
    const third = { ...content, id: 'gait-third' };
    noResponse({ gait: third });
    expect((await put(third)).status).toBe(201);
    const thirdId = `dq-${createHash('sha256').update('documentation-97116|c6-skilled-intervention|Procedure/gait-third').digest('hex').slice(0, 40)}`;
    const fresh = (await read(`DetectedIssue/${thirdId}`)) as DetectedIssue;
    expect([fresh.meta?.versionId, fresh.status]).toEqual(['1', 'final']);
  });

  it('every DetectedIssue version has a Provenance naming the bot and the versions it was derived from', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle(noResponse));
    const [issue] = await detectedIssues(s.baseUrl, keys.patient);
    const found = await fhir<Bundle>(s.baseUrl, 'GET', `Provenance?target=DetectedIssue/${issue.id}`);
    const provenance = found.body.entry?.map((e) => e.resource as Provenance) ?? [];
    expect(provenance).toHaveLength(1);
    expect(provenance[0].target).toEqual([{ reference: `DetectedIssue/${issue.id}/_history/1` }]);
    expect(provenance[0].agent[0].who).toEqual({ identifier: { system: 'http://stride-fhir.org/fhir/sid/bot', value: 'documentation-97116' }, display: 'Stride bot documentation-97116' });
    expect(provenance[0].entity?.map((e) => e.what.reference)).toEqual([`${keys.gait}/_history/1`]);
    expect(provenance[0].activity?.coding?.[0]?.code).toBe('CREATE');
  });

  it('a single write with Prefer: return=OperationOutcome gets each open finding as a warning naming rule, element and DetectedIssue', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const gait = await read(keys.gait);
    noResponse({ gait });
    const reply = await put(gait, OO);
    expect(reply.status).toBe(200);
    const finding = (reply.body as OperationOutcome).issue?.find((i) => i.code === 'business-rule');
    expect(finding?.severity).toBe('warning');
    expect(finding?.details?.coding?.[0]).toMatchObject({ system: RULE_SYSTEM, code: 'c6-skilled-intervention' });
    expect(finding?.details?.text).toMatch(/^Blocks billing \(c6-skilled-intervention\): Add a note starting "Response:"/);
    expect(finding?.expression).toEqual(['Procedure.note']);
    const [issue] = await detectedIssues(s.baseUrl, keys.patient);
    expect(finding?.diagnostics).toContain(`DetectedIssue/${issue.id}`);
    expect(finding?.diagnostics).toContain('MBPM ch. 15 §220.3.E');
  });

  it('a transaction response carries each finding on the entry of the resource it is about', async () => {
    const posted = await postSession(s.baseUrl, sessionBundle((p) => {
      noResponse(p);
      delete p.signature;
    }));
    const outcomeOf = (name: string) => {
      const i = sessionBundle((p) => delete p.signature).entry?.findIndex((e) => e.fullUrl === urn(name as any)) as number;
      return posted.reply.body.entry?.[i]?.response?.outcome?.issue?.map((x) => x.details?.coding?.[0]?.code) ?? [];
    };
    expect(outcomeOf('gait')).toEqual(['c6-skilled-intervention']);
    expect(outcomeOf('encounter')).toEqual(['c11-signature']);
    expect(outcomeOf('exercise')).toEqual([]);
  });

  it('a batch entry carries the findings of its own write', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const gait = await read(keys.gait);
    noResponse({ gait });
    const batch = { resourceType: 'Bundle', type: 'batch', entry: [{ resource: gait, request: { method: 'PUT', url: keys.gait } }] };
    const reply = await fhir<Bundle>(s.baseUrl, 'POST', '', batch);
    expect(reply.body.entry?.[0]?.response?.status).toBe('200 OK');
    const issues = reply.body.entry?.[0]?.response?.outcome?.issue?.filter((i) => i.code === 'business-rule');
    expect(issues?.map((i) => i.details?.coding?.[0]?.code)).toEqual(['c6-skilled-intervention']);
  });

  it('documentation written later closes the finding: the signature alone, then a progress report alone', async () => {
    const prior = Array.from({ length: 10 }, (_, i) => `2026-10-${String(22 + i).padStart(2, '0')}`).map((d) =>
      post({ resourceType: 'Encounter', status: 'finished', class: { code: 'AMB' }, subject: { reference: urn('patient') }, episodeOfCare: [{ reference: urn('episode') }], period: { start: `${d}T09:00:00-05:00` } } as any),
    );
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => delete p.signature, prior));
    expect(await openFindings(s.baseUrl, keys)).toEqual(['c11-signature@encounter', 'c9-progress-report@encounter']);
    const signature = structuredClone(sessionBundle().entry?.find((e) => e.fullUrl === urn('signature'))?.resource as any);
    signature.target = [{ reference: keys.encounter }];
    signature.agent[0].who.reference = keys.pt;
    signature.agent[0].onBehalfOf.reference = keys.clinic;
    signature.signature[0].who.reference = keys.pt;
    const signed = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Provenance', signature, OO);
    expect(signed.status).toBe(201);
    expect(await openFindings(s.baseUrl, keys)).toEqual(['c9-progress-report@encounter']);
    const report = {
      resourceType: 'DocumentReference',
      status: 'current',
      type: { coding: [{ system: 'http://stride-fhir.org/fhir/CodeSystem/document-type', code: 'progress-report' }] },
      subject: { reference: keys.patient },
      date: '2026-11-10T12:00:00-05:00',
      author: [{ reference: keys.pt }],
      content: [{ attachment: { contentType: 'text/plain', data: 'UHJvZ3Jlc3M=' } }],
      context: { encounter: [{ reference: keys.episode }] },
    };
    expect((await fhir(s.baseUrl, 'POST', 'DocumentReference', report)).status).toBe(201);
    expect(await openFindings(s.baseUrl, keys)).toEqual([]);
  });

  it('a plan of care updated alone re-checks its sessions: goals added back close the finding', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => delete p.plan.goal));
    expect(await openFindings(s.baseUrl, keys)).toEqual(['c3-functional-goals@gait']);
    const plan = await read(keys.plan);
    plan.goal = [{ reference: keys.walkGoal }];
    const reply = await put(plan, OO);
    expect(reply.status).toBe(200);
    expect(await openFindings(s.baseUrl, keys)).toEqual([]);
  });

  it('deleting a procedure closes its findings', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => delete p.exercise.note));
    expect(await openFindings(s.baseUrl, keys)).toEqual(['c6-skilled-intervention@exercise']);
    expect((await fhir(s.baseUrl, 'DELETE', keys.exercise)).status).toBe(204);
    expect(await openFindings(s.baseUrl, keys)).toEqual([]);
    const [closed] = await detectedIssues(s.baseUrl, keys.patient);
    expect(closed.status).toBe('entered-in-error');
  });

  it('POST Encounter/[id]/$run-bots answers with the open findings of the session', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => delete p.signature));
    const reply = await fhir<OperationOutcome>(s.baseUrl, 'POST', `${keys.encounter}/$run-bots`);
    expect(reply.status).toBe(200);
    expect(reply.body.issue?.[0]?.details?.text).toBe(`Ran documentation-97116 for ${keys.encounter}: 1 issue(s)`);
    expect(reply.body.issue?.[1]?.details?.coding?.[0]?.code).toBe('c11-signature');
    // Running it again changes nothing: still one open DetectedIssue, still version 1.
    await fhir(s.baseUrl, 'POST', `${keys.encounter}/$run-bots`);
    const issues = await detectedIssues(s.baseUrl, keys.patient);
    expect(issues.map((i) => [ruleOf(i), i.meta?.versionId])).toEqual([['c11-signature', '1']]);
  });
});
