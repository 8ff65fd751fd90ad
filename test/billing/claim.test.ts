import { createHash } from 'node:crypto';
import { describe, it, expect } from 'vitest';
import type { Claim, ClaimItem, ClaimResponse, Coverage, Encounter, Practitioner, Procedure, Resource } from '@medplum/fhirtypes';
import { buildBilling, type BuildOptions, type PriorAllowedLine } from '../../src/billing/claim.js';
import { combineSessions } from '../../src/billing/day.js';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import type { BillingPolicy } from '../../src/billing/policy.js';
import { priorAllowedFromClaims } from '../../src/billing/prior.js';
import { createValidator } from '../../src/validation/validator.js';
import { REF, billingPolicyOf, exampleClaim, exampleFacts, get, removeExtension, setMinutes, type SessionEdit } from './support.js';

const fees = loadFeeSchedule();

function bill(edit?: SessionEdit, prior: readonly PriorAllowedLine[] = [], options?: BuildOptions & { policy?: Partial<BillingPolicy> }) {
  const facts = exampleFacts(edit);
  const policy = { ...billingPolicyOf(facts), ...options?.policy };
  return buildBilling(combineSessions([facts]), policy, fees, prior, options);
}

/** A claim line as a biller reads it: code, modifiers, units, price, charge. */
function line(item: ClaimItem) {
  return {
    code: item.productOrService.coding?.[0]?.code,
    modifiers: (item.modifier ?? []).map((m) => m.coding?.[0]?.code),
    units: item.quantity?.value,
    unitPrice: item.unitPrice?.value,
    net: item.net?.value,
  };
}

const lines = (claim: Claim | null) => (claim?.item ?? []).map(line);
const ruleIds = (findings: readonly { ruleId: string }[]) => findings.map((f) => f.ruleId);
const commercial: SessionEdit = (r) => {
  get<Coverage>(r, REF.coverage).type = { coding: [{ system: 'urn:oid:2.16.840.1.113883.3.221.5', code: '5' }] };
};
const without = (ref: string): SessionEdit => (r) => void r.delete(ref);

describe('buildBilling: the example session -> the guide example claim', () => {
  const result = bill();
  const expected = exampleClaim();

  it('has exactly the example claim lines: codes, modifiers, units, unit prices, charges, total', () => {
    expect(lines(result.claim)).toEqual(lines(expected));
    expect(lines(result.claim)).toEqual([
      { code: '97116', modifiers: ['GP', '59'], units: 2, unitPrice: 60, net: 120 },
      { code: '97110', modifiers: ['GP', 'CQ'], units: 1, unitPrice: 55, net: 55 },
      { code: '97530', modifiers: ['GP'], units: 1, unitPrice: 65, net: 65 },
    ]);
    expect(result.claim!.total).toEqual(expected.total);
  });

  it('is active, with no finding', () => {
    expect(result.findings).toEqual([]);
    expect(result.claim!.status).toBe('active');
  });

  it('matches the example header: patient, provider, care team, diagnoses, insurance, dates, place, encounter', () => {
    const claim = result.claim!;
    for (const key of ['type', 'use', 'patient', 'provider', 'priority', 'careTeam', 'diagnosis', 'insurance', 'billablePeriod', 'created'] as const) {
      expect(claim[key], key).toEqual(expected[key]);
    }
    claim.item!.forEach((item, i) => {
      const want = expected.item![i]!;
      expect([item.careTeamSequence, item.servicedDate, item.locationCodeableConcept, item.encounter, item.productOrService, item.modifier]).toEqual([
        want.careTeamSequence, want.servicedDate, want.locationCodeableConcept, want.encounter, want.productOrService, want.modifier,
      ]);
    });
    expect(claim.insurer).toEqual({ reference: REF.payer, display: 'Medicare Part B' });
  });

  it("points each line at its procedure's reasonReference conditions (guide §3)", () => {
    // 97110 names Z96.641 then R26.89 -> [2, 1]; 97116 and 97530 name R26.89 only -> [1]. The example file shows
    // [1, 2] for 97116, which its own session does not support (reported to the guide's owner).
    expect(result.claim!.item!.map((i) => i.diagnosisSequence)).toEqual([[1], [2, 1], [1]]);
  });

  it('is valid base R4, and so are the ChargeItems', () => {
    const validator = createValidator();
    const errors = (r: Resource) => validator.validate(r).filter((i) => i.severity === 'error' || i.severity === 'fatal');
    expect(errors(result.claim!)).toEqual([]);
    for (const item of result.chargeItems) expect(errors(item)).toEqual([]);
  });

  it('one billable ChargeItem per line, with units, charge and the procedure it bills', () => {
    expect(result.chargeItems.map((c) => [c.status, c.code.coding?.[0]?.code, c.quantity?.value, c.priceOverride?.value, c.service?.[0]?.reference])).toEqual([
      ['billable', '97116', 2, 120, REF.gait],
      ['billable', '97110', 1, 55, REF.exercise],
      ['billable', '97530', 1, 65, REF.activities],
    ]);
    expect(result.chargeItems[1]!.performer).toEqual([{ actor: { reference: REF.kevin }, function: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225200000X', display: 'Physical Therapy Assistant' }] } }]);
  });

  it('is deterministic and keyed by patient, date of service, coverage and billing provider, so the bot updates instead of duplicating', () => {
    const again = bill();
    expect(again).toEqual(result);
    const key = `${REF.patient}|2026-11-10|${REF.coverage}|${REF.clinic}`;
    expect(result.claim!.identifier).toEqual([
      { system: 'http://stride-fhir.org/fhir/sid/billing-key', value: key },
      // CLM01 of the 837P: 20 hex digits of the key's SHA-256, so acknowledgments find the claim by it.
      { system: 'http://stride-fhir.org/fhir/sid/patient-control-number', value: createHash('sha256').update(key).digest('hex').slice(0, 20).toUpperCase() },
    ]);
    expect(new Set(result.chargeItems.map((c) => c.identifier![0]!.value)).size).toBe(3);
    const changed = bill((r) => setMinutes(r, REF.gait, 38));
    expect(changed.claim!.identifier).toEqual(result.claim!.identifier);
    expect(changed.chargeItems.map((c) => c.identifier)).toEqual(result.chargeItems.map((c) => c.identifier));
  });
});

describe('units (DOMAIN §A)', () => {
  it('changing minutes changes units: 97116 at 38 min -> 68 total -> 5 units, 97116 x3', () => {
    const result = bill((r) => setMinutes(r, REF.gait, 38));
    expect(lines(result.claim).map((l) => [l.code, l.units, l.net])).toEqual([['97116', 3, 180], ['97110', 1, 55], ['97530', 1, 65]]);
    expect(result.claim!.total!.value).toBe(300);
    expect(result.claim!.status).toBe('active');
  });

  const tenAndTen: SessionEdit = (r) => {
    setMinutes(r, REF.gait, 10);
    setMinutes(r, REF.exercise, 10);
    r.delete(REF.activities);
  };

  it('Medicare (SOPT 1) uses the 8-minute rule: 97110 10 + 97116 10 -> 1 unit in all', () => {
    const result = bill(tenAndTen);
    expect(lines(result.claim).map((l) => [l.code, l.units])).toEqual([['97110', 1]]);
    expect(result.findings).toMatchObject([{ ruleId: 'billing-no-units', severity: 'warning', implicated: [REF.gait] }]);
    expect(result.claim!.status).toBe('active');
  });

  it('the commercial example (SOPT 5) uses the midpoint rule: the same session -> 2 units, and no CQ or KX', () => {
    const result = bill((r) => {
      tenAndTen(r);
      commercial(r);
    });
    expect(lines(result.claim).map((l) => [l.code, l.units, l.modifiers])).toEqual([['97116', 1, ['GP']], ['97110', 1, ['GP']]]);
  });

  it('an untimed evaluation is 1 unit and does not add to the timed total', () => {
    const result = bill((r) => {
      const evaluation: Procedure = { ...get<Procedure>(r, REF.activities), code: { coding: [{ system: 'http://www.ama-assn.org/go/cpt', code: '97161' }] }, extension: [] };
      evaluation.performedPeriod = { start: '2026-11-10T08:00:00-05:00', end: '2026-11-10T08:45:00-05:00' };
      r.set('urn:uuid:eval', evaluation);
    });
    expect(lines(result.claim).map((l) => [l.code, l.units])).toEqual([['97161', 1], ['97116', 2], ['97110', 1], ['97530', 1]]);
  });

  // Issue 25 §3: a service is never dropped in silence; the claim is held with a finding that names it.
  it.each([
    ['no minutes at all', (r: Map<string, Resource>) => delete get<Procedure>(r, REF.gait).performedPeriod, /neither the timed-minutes extension nor a performedPeriod/],
    ['a reversed performedPeriod', (r: Map<string, Resource>) => (get<Procedure>(r, REF.gait).performedPeriod = { start: '2026-11-10T09:25:00-05:00', end: '2026-11-10T09:00:00-05:00' }), /ends .* before it starts/],
    ['zero minutes', (r: Map<string, Resource>) => setMinutes(r, REF.gait, 0), /says 0 minutes/],
    ['negative minutes', (r: Map<string, Resource>) => setMinutes(r, REF.gait, -25), /says -25/],
  ])('a timed procedure with %s holds the claim with an error naming it; the others are billed', (_what, edit, why) => {
    const result = bill((r) => {
      removeExtension(r, REF.gait, 'timed-minutes');
      edit(r);
    });
    expect(lines(result.claim).map((l) => l.code)).toEqual(['97110', '97530']);
    expect(result.findings).toMatchObject([{ ruleId: 'billing-minutes-unknown', severity: 'error', implicated: [REF.gait] }]);
    expect(result.findings[0]!.message).toMatch(why);
    expect(result.findings[0]!.message).toContain(`97116 (${REF.gait}, 2026-11-10) cannot be billed`);
    expect(result.claim!.status).toBe('draft');
    expect(result.chargeItems.every((c) => c.status === 'planned')).toBe(true);
  });

  describe('co-treatment: PT and OT together 60 minutes -> 4 units, counted once', () => {
    const coTreat: SessionEdit = (r) => {
      r.delete(REF.exercise);
      r.delete(REF.activities);
      r.set('Practitioner/ot', { resourceType: 'Practitioner', id: 'ot', identifier: [{ system: 'http://hl7.org/fhir/sid/us-npi', value: '1245319599' }], name: [{ family: 'Ng', given: ['Lee'], suffix: ['OTR/L'] }] } as Practitioner);
      const gait = get<Procedure>(r, REF.gait);
      setMinutes(r, REF.gait, 60);
      gait.performer!.push({ function: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225X00000X' }] }, actor: { reference: 'Practitioner/ot' } });
      for (const who of [REF.maria, 'Practitioner/ot']) {
        gait.extension!.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/performer-minutes', extension: [{ url: 'performer', valueReference: { reference: who } }, { url: 'minutes', valueInteger: 60 }] });
      }
    };

    it("Medicare policy 'split': 2 units GP and 2 units GO", () => {
      const result = bill(coTreat);
      expect(lines(result.claim).map((l) => [l.code, l.units, l.modifiers])).toEqual([['97116', 2, ['GP']], ['97116', 2, ['GO']]]);
      expect(result.claim!.careTeam!.map((c) => [c.provider.reference, c.role?.coding?.[0]?.code])).toEqual([[REF.maria, 'primary'], ['Practitioner/ot', 'other']]);
    });

    it("commercial policy 'single': one therapist bills all 4 units", () => {
      const result = bill((r) => {
        coTreat(r);
        commercial(r);
      });
      expect(lines(result.claim).map((l) => [l.code, l.units, l.modifiers])).toEqual([['97116', 4, ['GP']]]);
    });
  });

  it('the same code done apart by PT and OT is not co-treatment: each keeps its share, whatever the policy', () => {
    const result = bill((r) => {
      commercial(r);
      r.delete(REF.exercise);
      r.delete(REF.activities);
      setMinutes(r, REF.gait, 30);
      const byOt: Procedure = { ...get<Procedure>(r, REF.gait), performer: [{ function: { coding: [{ system: 'http://nucc.org/provider-taxonomy', code: '225X00000X' }] }, actor: { reference: 'Practitioner/ot' } }] };
      byOt.performedPeriod = { start: '2026-11-10T10:00:00-05:00', end: '2026-11-10T10:30:00-05:00' };
      r.set('urn:uuid:ot-gait', byOt);
    });
    expect(lines(result.claim).map((l) => [l.code, l.units, l.modifiers])).toEqual([['97116', 2, ['GP']], ['97116', 2, ['GO']]]);
  });

  describe('the 97116 per-session cap (policy maxUnitsPerSession 4)', () => {
    const fiveUnits: SessionEdit = (r) => setMinutes(r, REF.gait, 75);

    it('holds the claim for review (draft, finding) without a justification; units are not cut', () => {
      const result = bill(fiveUnits);
      expect(lines(result.claim)[0]).toMatchObject({ code: '97116', units: 5 });
      expect(result.claim!.status).toBe('draft');
      expect(ruleIds(result.findings)).toEqual(['billing-session-cap']);
      expect(result.findings[0]!.message).toMatch(/97116: 5 units in one session exceed the payer's limit of 4/);
      expect(result.chargeItems.every((c) => c.status === 'planned')).toBe(true);
    });

    it('passes with the justification extension on the procedure', () => {
      const result = bill((r) => {
        fiveUnits(r);
        get<Procedure>(r, REF.gait).extension!.push({ url: 'http://stride-fhir.org/fhir/StructureDefinition/justification', valueString: 'Fifth unit: stair training after a fall at home.' });
      });
      expect(result.findings).toEqual([]);
      expect(result.claim!.status).toBe('active');
    });

    it('exactly 4 units are within the cap', () => {
      expect(bill((r) => setMinutes(r, REF.gait, 60)).claim!.status).toBe('active');
    });
  });
});

describe('modifiers (DOMAIN §B)', () => {
  it('CQ goes away when the assistant furnished 1 minute of the unit alone (de minimis)', () => {
    const result = bill((r) => {
      const ext = get<Procedure>(r, REF.exercise).extension![0]!;
      ext.extension![1]!.valueInteger = 1;
    });
    expect(lines(result.claim)[1]).toMatchObject({ code: '97110', modifiers: ['GP'] });
  });

  describe('KX once the year-to-date allowed amount passes $2,480 (2026, PT+SLP pool)', () => {
    const prior = (allowed: number, discipline: PriorAllowedLine['discipline'] = 'PT', date = '2026-10-01'): PriorAllowedLine[] => [{ date, discipline, allowed }];

    it('marks the crossing line and the ones after it (97116 62.40 -> 2462.40; 97110 +24.31 CQ -> 2486.71)', () => {
      const result = bill(undefined, prior(2400));
      expect(lines(result.claim).map((l) => l.modifiers)).toEqual([['GP', '59'], ['GP', 'CQ', 'KX'], ['GP', 'KX']]);
      expect(result.claim!.status).toBe('active');
    });

    it('no KX below the threshold, for OT-pool or other-year amounts', () => {
      const noKx = [['GP', '59'], ['GP', 'CQ'], ['GP']];
      expect(lines(bill(undefined, prior(2300)).claim).map((l) => l.modifiers)).toEqual(noKx);
      expect(lines(bill(undefined, prior(2470, 'OT')).claim).map((l) => l.modifiers)).toEqual(noKx);
      expect(lines(bill(undefined, prior(2470, 'PT', '2025-12-30')).claim).map((l) => l.modifiers)).toEqual(noKx);
    });

    it('counts SLP with PT, and every line once the pool is already above', () => {
      expect(lines(bill(undefined, prior(2500, 'SLP')).claim).map((l) => l.modifiers)).toEqual([['GP', '59', 'KX'], ['GP', 'CQ', 'KX'], ['GP', 'KX']]);
    });

    it('the commercial example policy does not use KX', () => {
      expect(lines(bill(commercial, prior(5000)).claim).every((l) => !l.modifiers.includes('KX'))).toBe(true);
    });

    it('reads prior allowed amounts from earlier claims: adjudicated when a response exists, else estimated', () => {
      const earlier: Claim = { ...exampleClaim(), id: 'c1', identifier: [{ system: 'http://stride-fhir.org/fhir/sid/billing-key', value: 'Encounter/e0|Coverage/c' }] };
      const response: ClaimResponse = {
        resourceType: 'ClaimResponse', status: 'active', type: earlier.type, use: 'claim', patient: earlier.patient, created: '2026-11-20', insurer: { reference: REF.payer }, outcome: 'complete',
        request: { reference: 'Claim/c1' },
        item: [{ itemSequence: 1, adjudication: [{ category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication', code: 'eligible' }] }, amount: { value: 2400, currency: 'USD' } }] }],
      };
      const lines2 = priorAllowedFromClaims([earlier, { ...earlier, id: 'c2', status: 'cancelled' }, { ...earlier, id: 'c3', status: 'draft' }], fees, { responses: [response] });
      expect(lines2).toEqual([
        { date: '2026-11-10', discipline: 'PT', allowed: 2400 },
        { date: '2026-11-10', discipline: 'PT', allowed: 24.31 },
        { date: '2026-11-10', discipline: 'PT', allowed: 33.8 },
      ]);
      expect(priorAllowedFromClaims([earlier], fees, { excludeKey: 'Encounter/e0|Coverage/c' })).toEqual([]);
      expect(lines(bill(undefined, lines2).claim)[0]!.modifiers).toEqual(['GP', '59', 'KX']);
    });
  });

  describe('59 for the NCCI pair 97530/97116 only with distinct documentation', () => {
    it('without distinct-service: no 59, the 97116 line is flagged and the claim stays draft', () => {
      const result = bill((r) => removeExtension(r, REF.activities, 'distinct-service'));
      expect(lines(result.claim)[0]).toMatchObject({ code: '97116', modifiers: ['GP'] });
      expect(ruleIds(result.findings)).toEqual(['billing-ptp-not-separately-payable']);
      expect(result.findings[0]).toMatchObject({ severity: 'error', implicated: [REF.gait, REF.activities] });
      expect(result.claim!.status).toBe('draft');
    });

    it('with distinct-service on the other procedure of the pair (97116 itself): 59 on 97116', () => {
      const result = bill((r) => {
        const ext = get<Procedure>(r, REF.activities).extension!.find((e) => e.url.endsWith('/distinct-service'))!;
        removeExtension(r, REF.activities, 'distinct-service');
        get<Procedure>(r, REF.gait).extension!.push(ext);
      });
      expect(lines(result.claim)[0]!.modifiers).toEqual(['GP', '59']);
      expect(result.claim!.status).toBe('active');
    });

    it('distinct = false is no documentation', () => {
      const result = bill((r) => {
        get<Procedure>(r, REF.activities).extension!.find((e) => e.url.endsWith('/distinct-service'))!.extension![0]!.valueBoolean = false;
      });
      expect(lines(result.claim)[0]!.modifiers).toEqual(['GP']);
    });

    it("uses the policy's X modifier instead of 59 when it names one, never both", () => {
      const result = bill(undefined, [], { policy: { distinctModifier: 'XU' } });
      expect(lines(result.claim)[0]!.modifiers).toEqual(['GP', 'XU']);
      expect(result.claim!.status).toBe('active');
    });
  });

  it('a performer without a known discipline: no GP, and the claim stays draft', () => {
    const result = bill((r) => {
      delete get<Procedure>(r, REF.gait).performer![0]!.function;
    });
    expect(lines(result.claim)[0]!.modifiers).toEqual(['59']);
    expect(ruleIds(result.findings)).toEqual(['billing-discipline-unknown', 'scrub-modifiers']);
    expect(result.claim!.status).toBe('draft');
  });
});

describe('status and care team', () => {
  it('an unfinished session stays draft', () => {
    const result = bill((r) => {
      get<Encounter>(r, REF.encounter).status = 'in-progress';
    });
    expect(result.claim!.status).toBe('draft');
    expect(ruleIds(result.findings)).toEqual(['billing-session-not-finished']);
  });

  it('an open error-level documentation finding keeps the claim in draft; a warning does not', () => {
    const error = bill(undefined, [], { openFindings: [{ ruleId: 'doc-progress-report', severity: 'error', message: 'No progress report in 10 treatment days.', reference: 'DetectedIssue/1' }] });
    expect(error.claim!.status).toBe('draft');
    expect(ruleIds(error.findings)).toEqual(['scrub-open-documentation-findings']);
    const warning = bill(undefined, [], { openFindings: [{ ruleId: 'doc-frequency', severity: 'warning', message: 'Many visits.' }] });
    expect(warning.claim!.status).toBe('active');
  });

  it('no active coverage: no claim, and a finding says why', () => {
    const result = bill(without(REF.coverage));
    expect(result.claim).toBeNull();
    expect(result.chargeItems).toEqual([]);
    expect(ruleIds(result.findings)).toEqual(['billing-no-coverage']);
  });

  it('when only the assistant furnished the services, the supervising therapist on the Encounter renders', () => {
    const result = bill((r) => {
      for (const ref of [REF.gait, REF.activities]) get<Procedure>(r, ref).performer = [{ actor: { reference: REF.kevinRole } }];
    });
    expect(result.claim!.careTeam!.map((c) => [c.provider.reference, c.role?.coding?.[0]?.code])).toEqual([[REF.maria, 'primary'], [REF.kevin, 'assist']]);
    expect(result.claim!.item!.map((i) => i.careTeamSequence)).toEqual([[1, 2], [1, 2], [1, 2]]);
  });

  it('claims the place of service of the policy default (11 office) when the Encounter states none', () => {
    const result = bill(undefined, [], { policy: { defaultPlaceOfService: '22' } });
    expect(result.claim!.item!.map((i) => i.locationCodeableConcept?.coding?.[0]?.code)).toEqual(['22', '22', '22']);
  });
});
