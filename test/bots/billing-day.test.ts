/**
 * Billing by the date of service over HTTP (issue 26): the sessions of one patient's date pool their minutes per
 * discipline into one Claim; a later session of the date re-bills the same Claim, a removed one re-bills it without
 * it; per-encounter Claims billed before are superseded with a reason.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Bundle, ChargeItem, Claim, DetectedIssue, OperationOutcome, Provenance } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { openFindings } from './session.js';
import { postVisit } from './visits.js';
import { runCli } from '../support/cli.js';

type Line = [code: string, modifiers: string, units: number];
const lines = (claim: Claim): Line[] => (claim.item ?? []).map((i) => [i.productOrService.coding![0]!.code!, (i.modifier ?? []).map((m) => m.coding![0]!.code).join(' '), i.quantity!.value!]);
const encountersOf = (claim: Claim) => (claim.item ?? []).map((i) => (i.encounter ?? []).map((e) => e.reference));

describeEachEngine('billing by the date of service', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  const search = async <T>(query: string): Promise<T[]> => {
    const reply = await fhir<Bundle>(s.baseUrl, 'GET', query);
    expect(reply.status, reply.text.slice(0, 300)).toBe(200);
    return (reply.body.entry ?? []).filter((e) => e.search?.mode !== 'outcome').map((e) => e.resource as T);
  };
  /** The patient's Claims that are not cancelled. */
  const liveClaims = async (patient: string) => (await search<Claim>(`Claim?patient=${patient}`)).filter((c) => c.status !== 'cancelled');
  const billingFindings = (keys: Record<string, string>) => openFindings(s.baseUrl, keys, 'billing');
  const reportedOn = (reply: { body: Bundle }, type: string) =>
    (reply.body.entry ?? []).filter((e) => e.response?.location?.startsWith(`${type}/`)).flatMap((e) => ((e.response?.outcome as OperationOutcome | undefined)?.issue ?? []).map((i) => i.details?.coding?.[0]?.code));

  it('twice-daily care: 97116 7 min at 09:00 and 7 min at 15:00 are one line of 1 unit on one Claim naming both visits', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 7 }] });
    // Alone, the morning visit earns nothing: no Claim yet, and a warning says why.
    expect(await liveClaims(first.keys.patient!)).toEqual([]);
    expect(await billingFindings(first.keys)).toEqual(['billing-no-units@encounter', 'billing-nothing-to-bill@encounter']);
    const second = await postVisit(s.baseUrl, first.keys, { hour: 15, services: [{ name: 'gait', minutes: 7 }] });
    const claims = await liveClaims(first.keys.patient!);
    expect(claims).toHaveLength(1);
    const claim = claims[0]!;
    expect([claim.status, lines(claim)]).toEqual(['active', [['97116', 'GP', 1]]]);
    expect(encountersOf(claim)).toEqual([[first.keys.encounter, second.keys.encounter]]);
    // The write that made the date billable says why, on the visit's Encounter; both visits carry the finding.
    expect(reportedOn(second.reply, 'Encounter')).toContain('billing-date-of-service-units');
    const keys = { ...first.keys, morning: first.keys.encounter!, afternoon: second.keys.encounter! };
    expect(await billingFindings(keys)).toEqual(['billing-date-of-service-units@afternoon', 'billing-date-of-service-units@morning']);
    // The ChargeItem names both procedures and both visits, and how the minutes became the unit.
    const [charge] = await search<ChargeItem>(`ChargeItem?patient=${first.keys.patient}`);
    expect(charge!.service?.map((r) => r.reference)).toEqual([first.keys.gait, second.keys.gait]);
    expect(charge!.supportingInformation?.map((r) => r.reference)).toEqual([first.keys.encounter, second.keys.encounter]);
    expect(charge!.note?.[0]?.text).toContain('= 14 minutes of the date\'s PT 97116 -> 1 unit(s)');
    // $validate of the stored afternoon visit gives the same date-level reason, and stores nothing.
    const validated = await fhir<OperationOutcome>(s.baseUrl, 'GET', `${second.keys.encounter}/$validate`);
    expect(validated.body.issue.map((i) => i.details?.coding?.[0]?.code)).toContain('billing-date-of-service-units');
    expect((await fhir<Claim>(s.baseUrl, 'GET', `Claim/${claim.id}`)).body.meta?.versionId).toBe(claim.meta?.versionId);
  });

  it('PT 97116 10 min and OT 97530 10 min on one date: 1 GP unit and 1 GO unit, in one visit or in two', async () => {
    const oneVisit = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 10 }, { name: 'activities', minutes: 10, by: 'ot' }] });
    const [together] = await liveClaims(oneVisit.keys.patient!);
    expect(lines(together!)).toEqual([['97116', 'GP 59', 1], ['97530', 'GO', 1]]);

    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 10 }] });
    await postVisit(s.baseUrl, first.keys, { hour: 13, services: [{ name: 'activities', minutes: 10, by: 'ot' }] });
    const claims = await liveClaims(first.keys.patient!);
    expect(claims).toHaveLength(1);
    expect(lines(claims[0]!)).toEqual([['97116', 'GP 59', 1], ['97530', 'GO', 1]]);
    expect(claims[0]!.status).toBe('active');
  });

  it('a third session that day re-bills the same Claim (a new version); deleting one re-bills it down', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 8, services: [{ name: 'gait', minutes: 10 }] });
    const [claim1] = await liveClaims(first.keys.patient!);
    expect(lines(claim1!)).toEqual([['97116', 'GP', 1]]);
    const second = await postVisit(s.baseUrl, first.keys, { hour: 12, services: [{ name: 'gait', minutes: 10 }] });
    const third = await postVisit(s.baseUrl, second.keys, { hour: 16, services: [{ name: 'gait', minutes: 10 }, { name: 'exercise', minutes: 8 }] });
    const claims = await liveClaims(first.keys.patient!);
    expect(claims.map((c) => c.id)).toEqual([claim1!.id]);
    // 30 minutes of 97116 and 8 of 97110 (PTA: CQ) = 38 -> 3 units.
    expect(lines(claims[0]!)).toEqual([['97116', 'GP', 2], ['97110', 'GP CQ', 1]]);
    expect(Number(claims[0]!.meta!.versionId)).toBeGreaterThan(Number(claim1!.meta!.versionId));
    expect(encountersOf(claims[0]!)[0]).toEqual([first.keys.encounter, second.keys.encounter, third.keys.encounter]);

    expect((await fhir(s.baseUrl, 'DELETE', third.keys.encounter!)).status).toBe(204);
    const [after] = await liveClaims(first.keys.patient!);
    expect(after!.id).toBe(claim1!.id);
    expect(lines(after!)).toEqual([['97116', 'GP', 1]]);
    expect(encountersOf(after!)).toEqual([[first.keys.encounter, second.keys.encounter]]);
    // The 97110 line's ChargeItem is withdrawn, and its Provenance says why.
    const charges = await search<ChargeItem>(`ChargeItem?patient=${first.keys.patient}`);
    const withdrawn = charges.find((c) => c.code.coding?.[0]?.code === '97110')!;
    expect(withdrawn.status).toBe('entered-in-error');
    const provenance = await search<Provenance>(`Provenance?target=ChargeItem/${withdrawn.id}`);
    expect(provenance.some((p) => /no longer billed/.test(p.reason?.[0]?.text ?? ''))).toBe(true);
  });

  it('a session entered in error re-bills the date without it; when none is left the Claim is cancelled, with a reason', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 20 }] });
    const second = await postVisit(s.baseUrl, first.keys, { hour: 15, services: [{ name: 'gait', minutes: 20 }] });
    const [claim] = await liveClaims(first.keys.patient!);
    expect(lines(claim!)).toEqual([['97116', 'GP', 3]]);
    for (const key of [second.keys.encounter!, first.keys.encounter!]) {
      const encounter = (await fhir(s.baseUrl, 'GET', key)).body;
      expect((await fhir(s.baseUrl, 'PUT', key, { ...encounter, status: 'entered-in-error' })).status).toBe(200);
      if (key === second.keys.encounter) expect(lines((await liveClaims(first.keys.patient!))[0]!)).toEqual([['97116', 'GP', 1]]);
    }
    const cancelled = (await fhir<Claim>(s.baseUrl, 'GET', `Claim/${claim!.id}`)).body;
    expect(cancelled.status).toBe('cancelled');
    const provenance = await search<Provenance>(`Provenance?target=Claim/${claim!.id}`);
    expect(provenance.some((p) => /Nothing is left to bill/.test(p.reason?.[0]?.text ?? ''))).toBe(true);
    expect((await search<ChargeItem>(`ChargeItem?patient=${first.keys.patient}`)).map((c) => c.status)).toEqual(['entered-in-error']);
  });

  it('a session moved to another date leaves the first date\'s Claim and is billed on its new date', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 15 }] });
    const second = await postVisit(s.baseUrl, first.keys, { hour: 15, services: [{ name: 'gait', minutes: 15 }] });
    expect(lines((await liveClaims(first.keys.patient!))[0]!)).toEqual([['97116', 'GP', 2]]);
    const gait = (await fhir(s.baseUrl, 'GET', second.keys.gait!)).body;
    gait.performedPeriod = { start: '2026-11-11T15:00:00-05:00', end: '2026-11-11T15:15:00-05:00' };
    expect((await fhir(s.baseUrl, 'PUT', second.keys.gait!, gait)).status).toBe(200);
    const claims = (await liveClaims(first.keys.patient!)).sort((a, b) => a.created.localeCompare(b.created));
    expect(claims.map((c) => [c.created, lines(c)])).toEqual([['2026-11-10', [['97116', 'GP', 1]]], ['2026-11-11', [['97116', 'GP', 1]]]]);
  });

  /**
   * Two visits of a date, and what the per-encounter billing wrote for them before issue 26: a Claim per visit keyed
   * `Encounter|Coverage` (here a copy of the date's Claim, under the old key and id form).
   */
  async function billedPerEncounter(hour: number) {
    const first = await postVisit(s.baseUrl, null, { hour, services: [{ name: 'gait', minutes: 7 }] });
    const second = await postVisit(s.baseUrl, first.keys, { hour: hour + 6, services: [{ name: 'gait', minutes: 7 }] });
    const [day] = await liveClaims(first.keys.patient!);
    const legacy: Claim[] = [];
    for (const key of [first.keys.encounter!, second.keys.encounter!]) {
      const { id: _id, meta: _meta, ...rest } = day!;
      const old = { ...rest, id: `claim-legacy-${key.split('/')[1]!.slice(-20)}`, identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: `${key}|${first.keys.coverage}` }], item: rest.item!.map((i) => ({ ...i, encounter: [{ reference: key }] })) };
      const put = await fhir<Claim>(s.baseUrl, 'PUT', `Claim/${old.id}`, old);
      expect(put.status, put.text.slice(0, 500)).toBe(201);
      legacy.push(put.body);
    }
    expect(await liveClaims(first.keys.patient!)).toHaveLength(3);
    return { first, day: day!, legacy };
  }

  it('per-encounter Claims billed before are superseded by $run-bots: cancelled with a reason, named as prior', async () => {
    const { first, day, legacy } = await billedPerEncounter(9);
    const rerun = await fhir<OperationOutcome>(s.baseUrl, 'POST', `${first.keys.encounter}/$run-bots`, {});
    expect(rerun.status).toBe(200);
    const live = await liveClaims(first.keys.patient!);
    expect(live.map((c) => c.id)).toEqual([day!.id]);
    expect(live[0]!.related?.map((r) => [r.claim?.reference, r.relationship?.coding?.[0]?.code]).sort()).toEqual(legacy.map((c) => [`Claim/${c.id}`, 'prior']).sort());
    for (const old of legacy) {
      expect((await fhir<Claim>(s.baseUrl, 'GET', `Claim/${old.id}`)).body.status).toBe('cancelled');
      const provenance = await search<Provenance>(`Provenance?target=Claim/${old.id}`);
      expect(provenance.map((p) => p.reason?.[0]?.text).join(' ')).toContain(`Superseded by Claim/${day!.id}`);
    }
  });

  it('stride rebill --since re-bills every session since the date and supersedes per-encounter Claims; a second run changes nothing', async () => {
    const { first, day, legacy } = await billedPerEncounter(8);
    const run = await runCli(['rebill', '--since', '2026-11-01'], s.env);
    expect(run.code, run.stderr + run.stdout).toBe(0);
    expect(run.stdout).toMatch(/Re-billed \d+ session\(s\) since 2026-11-01: 0 Claim\(s\) created, \d+ updated, [1-9]\d* cancelled/);
    expect((await liveClaims(first.keys.patient!)).map((c) => c.id)).toEqual([day.id]);
    for (const old of legacy) expect((await fhir<Claim>(s.baseUrl, 'GET', `Claim/${old.id}`)).body.status).toBe('cancelled');
    const again = await runCli(['rebill', '--since', '2026-11-01'], s.env);
    expect(again.stdout).toMatch(/0 Claim\(s\) created, 0 updated, 0 cancelled/);
  }, 240_000);

  it('a timed service with 0 minutes is never dropped in silence: a documentation finding, and the Claim held naming it', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 20 }, { name: 'exercise', minutes: 0 }] });
    const [claim] = await liveClaims(first.keys.patient!);
    expect([claim!.status, lines(claim!)]).toEqual(['draft', [['97116', 'GP', 1]]]);
    expect(await openFindings(s.baseUrl, first.keys)).toContain('c7-timed-minutes@exercise');
    expect(await billingFindings(first.keys)).toContain('billing-minutes-unknown@encounter');
    const [issue] = await search<DetectedIssue>(`DetectedIssue?patient=${first.keys.patient}&code=http://stride-fhir.org/fhir/CodeSystem/billing|billing-minutes-unknown`);
    expect(issue!.detail).toContain(`97110 (${first.keys.exercise}, 2026-11-10) cannot be billed: its timed-minutes extension says 0 minutes`);
  });

  it('unknown minutes are never dropped in silence either (finding, Claim held naming it); negative minutes are refused at the write', async () => {
    const variants: Array<[string, (p: any) => void, RegExp]> = [
      ['no end time and no timed-minutes', (p) => delete p.performedPeriod.end, /minutes/],
    ];
    for (const [what, change, detail] of variants) {
      const visit = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 20 }, { name: 'exercise', minutes: 15 }] });
      const procedure = (await fhir(s.baseUrl, 'GET', visit.keys.exercise!)).body;
      // Without the profile, which would refuse the resource: the bots must catch what the profile is not asked for.
      delete procedure.meta;
      procedure.extension = procedure.extension.filter((e: { url: string }) => !e.url.endsWith('/timed-minutes'));
      change(procedure);
      const put = await fhir(s.baseUrl, 'PUT', visit.keys.exercise!, procedure);
      expect(put.status, `${what}: ${put.text}`).toBe(200);
      const [claim] = await liveClaims(visit.keys.patient!);
      expect([claim!.status, lines(claim!)], what).toEqual(['draft', [['97116', 'GP', 1]]]);
      expect(await openFindings(s.baseUrl, visit.keys), what).toContain('c7-timed-minutes@exercise');
      expect(await billingFindings(visit.keys), what).toContain('billing-minutes-unknown@encounter');
      const issues = await search<DetectedIssue>(`DetectedIssue?patient=${visit.keys.patient}&code=http://stride-fhir.org/fhir/CodeSystem/billing|billing-minutes-unknown`);
      expect(issues.map((i) => i.detail).join(' '), what).toContain(`97110 (${visit.keys.exercise}`);
      expect(issues.map((i) => i.detail).join(' '), what).toMatch(detail);
    }
    // Negative minutes never reach billing: a reversed performedPeriod breaks R4's invariant per-1, timed-minutes of -5
    // the extension's stride-tm-1; the write is refused and the Claim stays as it was.
    const refused: Array<[string, (p: any) => void, string]> = [
      ['a performedPeriod that ends before it starts', (p) => (p.performedPeriod = { start: p.performedPeriod.end, end: p.performedPeriod.start }), 'per-1'],
      ['timed-minutes of -5', (p) => p.extension.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/timed-minutes', valueInteger: -5 }), 'stride-tm-1'],
    ];
    for (const [what, change, invariant] of refused) {
      const visit = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 20 }, { name: 'exercise', minutes: 15 }] });
      const before = await liveClaims(visit.keys.patient!);
      const procedure = (await fhir(s.baseUrl, 'GET', visit.keys.exercise!)).body;
      delete procedure.meta;
      procedure.extension = procedure.extension.filter((e: { url: string }) => !e.url.endsWith('/timed-minutes'));
      change(procedure);
      const put = await fhir(s.baseUrl, 'PUT', visit.keys.exercise!, procedure);
      expect(put.status, what).toBe(400);
      expect(JSON.stringify(put.body.issue), what).toContain(invariant);
      expect(await liveClaims(visit.keys.patient!), what).toEqual(before);
    }
  });

  it('findings of the date are reported on the visit they concern', async () => {
    const first = await postVisit(s.baseUrl, null, { hour: 9, services: [{ name: 'gait', minutes: 20 }] });
    const second = await postVisit(s.baseUrl, first.keys, { hour: 15, services: [{ name: 'gait', minutes: 75 }] });
    // 95 minutes of 97116 on the date: 6 units, above the cap of 4; the afternoon visit has no justification.
    const [claim] = await liveClaims(first.keys.patient!);
    expect([claim!.status, lines(claim!)]).toEqual(['draft', [['97116', 'GP', 6]]]);
    const keys = { ...first.keys, morning: first.keys.encounter!, afternoon: second.keys.encounter! };
    const findings = await billingFindings(keys);
    expect(findings).toContain('billing-session-cap@morning');
    expect(findings).toContain('billing-session-cap@afternoon');
    const issues = await search<DetectedIssue>(`DetectedIssue?patient=${first.keys.patient}&code=http://stride-fhir.org/fhir/CodeSystem/billing|billing-session-cap`);
    expect(issues[0]!.detail).toMatch(/date of service 2026-11-10/);
  });
});
