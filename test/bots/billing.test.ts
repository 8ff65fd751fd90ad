/**
 * The billing bot through HTTP (issue 7): the guide's example session becomes an active Claim with the expected lines
 * and one ChargeItem per line; changing minutes updates the same Claim; broken documentation puts it back in draft
 * with the finding; a cancelled session cancels it; a client's Claim is scrubbed; the 97116 cap holds the Claim; KX
 * comes from the patient's earlier claims in the database.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, ChargeItem, Claim, DetectedIssue, OperationOutcome, Procedure, Provenance } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { EXT, openFindings, postSession, sessionBundle, urn, type Name, type Parts } from './session.js';

const BILLING_RULES = 'http://stride-fhir.org/fhir/CodeSystem/billing';

type Line = [code: string, modifiers: string, units: number, net: number];
const lines = (claim: Claim): Line[] =>
  (claim.item ?? []).map((i) => [i.productOrService.coding![0]!.code!, (i.modifier ?? []).map((m) => m.coding![0]!.code).join(' '), i.quantity!.value!, i.net!.value!]);

/** The example's lines: 97116 25 min (GP, 59: NCCI pair with the documented 97530), 97110 with the PTA (CQ), 97530. */
const EXAMPLE_LINES: Line[] = [
  ['97116', 'GP 59', 2, 120],
  ['97110', 'GP CQ', 1, 55],
  ['97530', 'GP', 1, 65],
];

const setMinutes = (procedure: Procedure, minutes: number) => {
  const ext = procedure.extension!.find((e) => e.url === EXT('timed-minutes'));
  if (ext) ext.valueInteger = minutes;
  else procedure.extension!.push({ url: EXT('timed-minutes'), valueInteger: minutes });
};

describeEachEngine('billing bot', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const search = async <T>(query: string): Promise<T[]> => {
    const reply = await fhir<Bundle>(s.baseUrl, 'GET', query);
    expect(reply.status).toBe(200);
    return (reply.body.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => e.resource as T);
  };
  const claimsOf = (encounter: string) => search<Claim>(`Claim?encounter=${encounter}`);
  const billingFindings = (keys: Record<string, string>) => openFindings(s.baseUrl, keys, 'billing');

  it('a finished, documented session becomes one active Claim and one billable ChargeItem per line, each with a Provenance', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const claims = await claimsOf(keys.encounter);
    expect(claims).toHaveLength(1);
    const claim = claims[0]!;
    expect(claim.status).toBe('active');
    expect(lines(claim)).toEqual(EXAMPLE_LINES);
    expect(claim.total?.value).toBe(240);
    expect(claim.patient.reference).toBe(keys.patient);
    expect(claim.insurer?.reference).toBe(keys.payer);
    expect(claim.provider.reference).toBe(keys.clinic);
    expect(claim.insurance[0]!.coverage.reference).toBe(keys.coverage);
    expect(claim.careTeam?.find((m) => m.role?.coding?.[0]?.code === 'primary')?.provider.reference).toBe(keys.pt);
    expect(claim.diagnosis?.map((d) => d.diagnosisCodeableConcept?.coding?.[0]?.code)).toEqual(['R26.89', 'Z96.641']);
    const charges = await search<ChargeItem>(`ChargeItem?context=${keys.encounter}`);
    expect(charges.map((c) => [c.code.coding![0]!.code, c.quantity?.value, c.status]).sort()).toEqual([
      ['97110', 1, 'billable'],
      ['97116', 2, 'billable'],
      ['97530', 1, 'billable'],
    ]);
    const provenance = await search<Provenance>(`Provenance?target=Claim/${claim.id}`);
    expect(provenance).toHaveLength(1);
    expect(provenance[0]!.agent[0]!.who?.identifier?.value).toBe('billing');
    expect(provenance[0]!.entity?.map((e) => e.what.reference)).toContain(`${keys.encounter}/_history/1`);
    expect(await billingFindings(keys)).toEqual([]);
  });

  it('changing the minutes updates the same Claim (next version, no duplicate); rewriting it unchanged writes nothing', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const gait = (await fhir<Procedure>(s.baseUrl, 'GET', keys.gait)).body;
    setMinutes(gait, 38); // 38 + 15 + 15 = 68 timed minutes: 5 units, 97116 gets 3
    expect((await fhir(s.baseUrl, 'PUT', keys.gait, gait)).status).toBe(200);
    const [claim] = await claimsOf(keys.encounter);
    expect(await claimsOf(keys.encounter)).toHaveLength(1);
    expect(claim!.meta?.versionId).toBe('2');
    expect(lines(claim!)[0]).toEqual(['97116', 'GP 59', 3, 180]);
    expect(claim!.total?.value).toBe(300);
    expect(await search<ChargeItem>(`ChargeItem?context=${keys.encounter}`)).toHaveLength(3);
    // The same Procedure again: nothing changed, so the Claim stays at version 2.
    expect((await fhir(s.baseUrl, 'PUT', keys.gait, gait)).status).toBe(200);
    expect((await claimsOf(keys.encounter))[0]!.meta?.versionId).toBe('2');
  });

  it('broken documentation puts the Claim back in draft with the finding; fixing it makes it active again', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const signature = await fhir(s.baseUrl, 'DELETE', keys.signature);
    expect(signature.status).toBeLessThan(300);
    const [held] = await claimsOf(keys.encounter);
    expect(held!.status).toBe('draft');
    expect(await openFindings(s.baseUrl, keys)).toEqual(['c11-signature@encounter']);
    const findings = await billingFindings(keys);
    expect(findings).toEqual([`scrub-open-documentation-findings@Claim/${held!.id}`]);
    const issue = (await search<DetectedIssue>(`DetectedIssue?patient=${keys.patient}&code=${BILLING_RULES}|scrub-open-documentation-findings`))[0]!;
    expect(issue.detail).toContain('c11-signature');
    const charges = await search<ChargeItem>(`ChargeItem?context=${keys.encounter}`);
    expect(charges.map((c) => c.status)).toEqual(['planned', 'planned', 'planned']);

    // The signature again, its urn:uuid references now the stored resources.
    let text = JSON.stringify(sessionBundle().entry!.find((e) => e.resource?.resourceType === 'Provenance')!.resource);
    for (const [name, key] of Object.entries(keys)) text = text.replaceAll(urn(name as Name), key);
    expect((await fhir(s.baseUrl, 'POST', 'Provenance', JSON.parse(text) as Provenance)).status).toBe(201);
    expect((await claimsOf(keys.encounter))[0]!.status).toBe('active');
    expect(await billingFindings(keys)).toEqual([]);
  });

  it('a session marked entered-in-error cancels its Claim and withdraws its ChargeItems', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const encounter = (await fhir(s.baseUrl, 'GET', keys.encounter)).body;
    expect((await fhir(s.baseUrl, 'PUT', keys.encounter, { ...encounter, status: 'entered-in-error' })).status).toBe(200);
    const claims = await claimsOf(keys.encounter);
    expect(claims.map((c) => c.status)).toEqual(['cancelled']);
    const charges = await search<ChargeItem>(`ChargeItem?context=${keys.encounter}`);
    expect(charges.map((c) => c.status)).toEqual(['entered-in-error', 'entered-in-error', 'entered-in-error']);
  });

  it('a session still in progress is not billed', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => (p.encounter.status = 'in-progress')));
    expect(await claimsOf(keys.encounter)).toEqual([]);
    expect(await billingFindings(keys)).toEqual([]);
  });

  it('97116 above the per-session cap holds the Claim for review unless the justification is documented', async () => {
    // 75 minutes of 97116 alone: 5 units, above the 4 of Medicare's shipped policy (src/billing/data/billing-policies.json).
    const capped = (p: Parts) => {
      setMinutes(p.gait, 75);
      p.gait.performedPeriod = { start: '2026-11-10T09:00:00-05:00', end: '2026-11-10T10:15:00-05:00' };
      p.encounter.period.end = '2026-11-10T10:15:00-05:00';
      delete p.exercise;
      delete p.activities;
      p.encounter.length.value = 75;
    };
    const held = await postSession(s.baseUrl, sessionBundle(capped));
    const [claim] = await claimsOf(held.keys.encounter);
    expect(claim!.status).toBe('draft');
    expect(lines(claim!)).toEqual([['97116', 'GP', 5, 300]]);
    expect(await billingFindings(held.keys)).toEqual(['billing-session-cap@encounter']);
    const response = held.reply.body.entry!.find((e) => e.response?.location?.startsWith('Encounter/'))!.response!.outcome as OperationOutcome;
    expect(response.issue.map((i) => i.details?.coding?.[0]?.code)).toContain('billing-session-cap');

    const justified = await postSession(s.baseUrl, sessionBundle((p) => {
      capped(p);
      p.gait.extension.push({ url: EXT('justification'), valueString: 'Gait training after hip arthroplasty: four 15-minute blocks needed for stair negotiation and community distances.' });
    }));
    expect((await claimsOf(justified.keys.encounter))[0]!.status).toBe('active');
    expect(await billingFindings(justified.keys)).toEqual([]);
  });

  it('a Claim posted by a client is scrubbed: an active one with errors goes back to draft and the response names each problem', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    const [generated] = await claimsOf(keys.encounter);
    const { id: _id, meta: _meta, identifier: _identifier, ...copy } = generated!;
    const posted = await fhir<Claim>(s.baseUrl, 'POST', 'Claim', { ...copy, item: copy.item!.map((i) => ({ ...i, quantity: { value: i.quantity!.value! + 2 } })) }, { Prefer: 'return=OperationOutcome' });
    expect(posted.status).toBe(201);
    const outcome = posted.body as unknown as OperationOutcome;
    const codes = outcome.issue.map((i) => i.details?.coding?.[0]?.code);
    expect(codes).toContain('scrub-units');
    expect(codes).toContain('scrub-charge');
    const id = /Claim\/([^/]+)/.exec(posted.headers.get('location')!)![1]!;
    const stored = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${id}`)).body;
    expect(stored.status).toBe('draft');
    expect(stored.meta?.versionId).toBe('2');

    const clean = await fhir<Claim>(s.baseUrl, 'POST', 'Claim', copy);
    expect(clean.status).toBe(201);
    expect(clean.body.status).toBe('active');
    expect(clean.body.meta?.versionId).toBe('1');
  });

  it('a Claim that bills no therapy code (a hospital claim in a bulk load) is not scrubbed', async () => {
    const hospital: Claim = {
      resourceType: 'Claim',
      status: 'active',
      type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/claim-type', code: 'institutional' }] },
      use: 'claim',
      patient: { reference: 'Patient/nobody' },
      created: '2026-01-05',
      provider: { reference: 'Organization/nowhere' },
      priority: { coding: [{ code: 'normal' }] },
      insurance: [{ sequence: 1, focal: true, coverage: { display: 'Cigna Health' } }],
      item: [{ sequence: 1, productOrService: { coding: [{ system: 'http://snomed.info/sct', code: '185349003' }] } }],
    };
    const posted = await fhir<Claim>(s.baseUrl, 'POST', 'Claim', hospital, { Prefer: 'return=OperationOutcome' });
    expect(posted.status).toBe(201);
    expect((posted.body as unknown as OperationOutcome).issue.map((i) => i.details?.coding?.[0]?.code).filter(Boolean)).toEqual([]);
    const id = /Claim\/([^/]+)/.exec(posted.headers.get('location')!)![1]!;
    const stored = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${id}`)).body;
    expect([stored.status, stored.meta?.versionId]).toEqual(['active', '1']);
  });

  it('KX is added once the patient\'s allowed amount this year, from earlier claims in the database, passes the threshold', async () => {
    const first = await postSession(s.baseUrl, sessionBundle());
    const [generated] = await claimsOf(first.keys.encounter);
    expect(lines(generated!).every(([, modifiers]) => !modifiers.includes('KX'))).toBe(true);
    // An earlier claim of the same year for this patient, without a session to check it against: 90 units of 97110,
    // an estimated allowed amount of 90 x 28.60 = 2,574 USD (fee schedule), above the 2026 threshold of 2,480.
    const { id: _id, meta: _meta, identifier: _identifier, ...copy } = generated!;
    const big: Claim = { ...copy, item: [{ ...copy.item![1]!, sequence: 1, encounter: undefined, quantity: { value: 90 }, net: { value: 4950, currency: 'USD' } }], total: { value: 4950, currency: 'USD' } };
    big.item![0]!.modifier = [big.item![0]!.modifier![0]!];
    big.item![0]!.servicedDate = '2026-06-01';
    big.billablePeriod = { start: '2026-06-01', end: '2026-06-01' };
    big.created = '2026-06-01';
    const earlier = await fhir<Claim>(s.baseUrl, 'POST', 'Claim', big);
    expect(earlier.status).toBe(201);
    expect(earlier.body.status).toBe('active');
    // Re-running billing for the session now counts the earlier claim.
    expect((await fhir(s.baseUrl, 'POST', `${first.keys.encounter}/$run-bots`, {})).status).toBe(200);
    const [rebilled] = await claimsOf(first.keys.encounter);
    expect(lines(rebilled!).map(([code, modifiers]) => `${code} ${modifiers}`)).toEqual(['97116 GP 59 KX', '97110 GP CQ KX', '97530 GP KX']);
  });

  it('a diagnosis coded only in SNOMED CT stays off the claim with a warning; the lines point at the ICD-10-CM one', async () => {
    const snomed = { coding: [{ system: 'http://snomed.info/sct', code: '429249008', display: 'Presence of right artificial hip joint' }] };
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => (p.hipDx.code = snomed)));
    const [claim] = await claimsOf(keys.encounter);
    expect(claim!.status).toBe('active');
    expect(claim!.diagnosis?.map((d) => d.diagnosisCodeableConcept?.coding?.[0]?.code)).toEqual(['R26.89']);
    expect(claim!.item?.map((i) => i.diagnosisSequence)).toEqual([[1], [1], [1]]);
    expect(lines(claim!)).toEqual(EXAMPLE_LINES);
    expect(await billingFindings(keys)).toEqual(['billing-diagnosis-not-icd10@encounter']);
  });

  it('a session with no ICD-10-CM diagnosis at all gets no Claim and a finding saying why (not a bot failure)', async () => {
    const snomed = { coding: [{ system: 'http://snomed.info/sct', code: '22325002', display: 'Abnormal gait' }] };
    const reply = await fhir<Bundle>(s.baseUrl, 'POST', '', sessionBundle((p) => {
      p.gaitDx.code = snomed;
      p.hipDx.code = { text: 'right hip replacement' };
    }));
    expect(reply.status).toBe(200);
    const texts = (reply.body.entry ?? []).flatMap((e) => ((e.response?.outcome as OperationOutcome | undefined)?.issue ?? []).map((i) => i.details?.text ?? ''));
    expect(texts.some((t) => /Bot billing failed/.test(t)), texts.join('\n')).toBe(false);
    expect(texts.some((t) => /billing-no-diagnosis.*No diagnosis of the session is coded in ICD-10-CM/.test(t)), texts.join('\n')).toBe(true);
    const encounter = reply.body.entry!.find((e) => e.response?.location?.startsWith('Encounter/'))!.response!.location!.split('/_history')[0]!;
    expect(await claimsOf(encounter)).toEqual([]);
  });

  const botFailures = (reply: { body: Bundle }) =>
    (reply.body.entry ?? []).flatMap((e) => ((e.response?.outcome as OperationOutcome | undefined)?.issue ?? []).map((i) => i.details?.text ?? '')).filter((t) => /Bot billing failed/.test(t));

  it('a finished session without services gets no Claim and billing-nothing-to-bill (not a bot failure)', async () => {
    const bundle = sessionBundle();
    bundle.entry = bundle.entry!.filter((e) => e.resource?.resourceType !== 'Procedure');
    const reply = await fhir<Bundle>(s.baseUrl, 'POST', '', JSON.parse(JSON.stringify(bundle).replace(/"partOf":\[[^\]]*\],?/g, '')));
    expect(reply.status, reply.text.slice(0, 500)).toBe(200);
    expect(botFailures(reply)).toEqual([]);
    const keys = { encounter: reply.body.entry!.find((e) => e.response?.location?.startsWith('Encounter/'))!.response!.location!.split('/_history')[0]!, patient: reply.body.entry!.find((e) => e.response?.location?.startsWith('Patient/'))!.response!.location!.split('/_history')[0]! };
    expect(await claimsOf(keys.encounter)).toEqual([]);
    expect(await billingFindings(keys)).toEqual(['billing-nothing-to-bill@encounter']);
  });

  it('services without a recorded performer or profile go on a draft Claim under the Encounter\'s therapist, never a bot failure', async () => {
    const { keys, reply } = await postSession(s.baseUrl, sessionBundle((p) => {
      for (const name of ['gait', 'exercise', 'activities'] as const) {
        delete p[name].performer;
        delete p[name].meta;
      }
    }));
    expect(botFailures(reply)).toEqual([]);
    const [claim] = await claimsOf(keys.encounter);
    expect(claim!.status).toBe('draft');
    expect(claim!.careTeam?.map((m) => [m.provider.reference, m.role?.coding?.[0]?.code])).toEqual([[keys.pt, 'primary']]);
    expect(await billingFindings(keys)).toContain('billing-discipline-unknown@encounter');
  });
});
