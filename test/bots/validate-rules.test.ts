/**
 * $validate runs the bots' rules for resources checked against the Stride guide (issue 6 §5, issue 7 §5): the same
 * findings a write would get, and nothing is stored.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, Claim, OperationOutcome, Procedure } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { openFindings, postSession, sessionBundle } from './session.js';

const codes = (outcome: OperationOutcome) => outcome.issue.map((i) => i.details?.coding?.[0]?.code).filter((c): c is string => !!c).sort();

describeEachEngine('$validate with the bots rules', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const count = async (query: string) => (await fhir<Bundle>(s.baseUrl, 'GET', `${query}${query.includes('?') ? '&' : '?'}_summary=count`)).body.total;

  it('a 97116 Procedure without its skilled-intervention note: the documentation finding, and nothing stored', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const gait = (await fhir<Procedure>(s.baseUrl, 'GET', keys.gait)).body;
    const { id: _id, meta, ...rest } = gait;
    const without = { ...rest, meta: { profile: meta!.profile }, note: gait.note!.filter((n) => !n.text.startsWith('Techniques:')) };
    const procedures = await count('Procedure');
    const issues = await count('DetectedIssue');

    const asCreate = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Procedure/$validate', without);
    expect(asCreate.status).toBe(200);
    expect(codes(asCreate.body)).toContain('c6-skilled-intervention');
    expect(asCreate.body.issue.find((i) => i.details?.coding?.[0]?.code === 'c6-skilled-intervention')?.details?.text).toContain('Blocks billing');

    const asUpdate = await fhir<OperationOutcome>(s.baseUrl, 'POST', `${keys.gait}/$validate?mode=update`, { ...without, id: gait.id });
    expect(asUpdate.status).toBe(200);
    expect(codes(asUpdate.body)).toContain('c6-skilled-intervention');

    // The stored Procedure as it is (an update of itself): no finding. (As a create it would be a second 97116 in
    // the session, and the session's minutes would no longer add up.)
    const complete = await fhir<OperationOutcome>(s.baseUrl, 'POST', `${keys.gait}/$validate`, gait);
    expect(codes(complete.body)).toEqual([]);

    expect(await count('Procedure')).toBe(procedures);
    expect(await count('DetectedIssue')).toBe(issues);
    expect(await openFindings(s.baseUrl, keys)).toEqual([]);
    expect((await fhir<Procedure>(s.baseUrl, 'GET', keys.gait)).body.meta?.versionId).toBe('1');
  });

  it('a Claim checked against TherapyClaim gets the scrubber findings; the bots are not run without a Stride profile', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const [generated] = ((await fhir<Bundle>(s.baseUrl, 'GET', `Claim?encounter=${keys.encounter}`)).body.entry ?? []).map((e) => e.resource as Claim);
    const { id: _id, meta: _meta, identifier: _identifier, ...copy } = generated!;
    const wrong = { ...copy, item: copy.item!.map((i) => ({ ...i, quantity: { value: i.quantity!.value! + 2 } })) };
    const claims = await count('Claim');

    const checked = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Claim/$validate?profile=http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-claim', wrong);
    expect(checked.status).toBe(200);
    expect(codes(checked.body)).toEqual(expect.arrayContaining(['scrub-charge', 'scrub-units']));

    const plain = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Claim/$validate', wrong);
    expect(codes(plain.body)).toEqual([]);
    expect(await count('Claim')).toBe(claims);
  });
});
