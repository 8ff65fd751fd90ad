/**
 * Billing by the date of service and by discipline (issue 26; DOMAIN-97116 §A): a date's sessions pool their minutes
 * per discipline and go through the payer's unit rule once. Unit and property tests on the pure functions; the bot's
 * writes are tested over HTTP in test/bots/billing-day.test.ts.
 */
import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import type { Claim, Encounter } from '@medplum/fhirtypes';
import { buildBilling } from '../../src/billing/claim.js';
import { combineSessions } from '../../src/billing/day.js';
import { loadFeeSchedule } from '../../src/billing/fee-schedule.js';
import { computeLines } from '../../src/billing/lines.js';
import type { PerformerFact, ServiceFact, SessionFacts } from '../../src/billing/session.js';
import { coTreatmentParts } from '../../src/billing/shares.js';
import { TIMED_CODES, cmsTotalUnits } from '../../src/billing/units.js';
import type { Discipline } from '../../src/billing/types.js';
import { REF, billingPolicyOf, exampleFacts } from './support.js';

const fees = loadFeeSchedule();
const template = exampleFacts();
const medicare = billingPolicyOf(template);
const DATE = '2026-11-10';

/** A therapist of a discipline, as billing reads a performer: the example's physical therapist (with her NPI), or an OT. */
function performer(discipline: Discipline): PerformerFact {
  const maria = template.services[0]!.performers[0]!;
  if (discipline === 'PT') return maria;
  const ref = `Practitioner/${discipline.toLowerCase()}`;
  return { ...maria, actorRef: ref, practitionerRef: ref, practitioner: null, display: ref, discipline, taxonomy: discipline === 'OT' ? '225X00000X' : '235Z00000X' };
}

interface Visit {
  hour: number;
  services: { code: string; minutes: number; by: PerformerFact[] }[];
}

/** A session of the example patient on DATE at `hour`, with the services given (no documentation problems). */
function session(n: number, visit: Visit): SessionFacts {
  const encounterRef = `Encounter/visit-${n}`;
  const start = `${DATE}T${String(visit.hour).padStart(2, '0')}:00:00Z`;
  const encounter: Encounter = { ...template.encounter, id: `visit-${n}`, period: { start } };
  const services: ServiceFact[] = visit.services.map((s, i) => ({
    ref: `Procedure/visit-${n}-${i}`,
    encounterRef,
    code: s.code,
    coding: { system: 'http://www.ama-assn.org/go/cpt', code: s.code },
    date: DATE,
    start: `${DATE}T${String(visit.hour).padStart(2, '0')}:${String(i).padStart(2, '0')}:00Z`,
    minutes: s.minutes,
    minutesFrom: 'timed-minutes',
    minutesProblem: null,
    performers: s.by,
    distinct: true,
    justified: true,
    reasonRefs: [],
  }));
  return { ...template, encounterRef, encounter, services, findings: [] };
}

type Line = [code: string, modifiers: string, units: number];
const lines = (claim: Claim | null): Line[] => (claim?.item ?? []).map((i) => [i.productOrService.coding![0]!.code!, (i.modifier ?? []).map((m) => m.coding![0]!.code).join(' '), i.quantity!.value!]);

function billDay(...visits: Visit[]) {
  return buildBilling(combineSessions(visits.map((v, i) => session(i + 1, v))), medicare, fees, []);
}

const PT = performer('PT');
const OT = performer('OT');

describe('the date of service, not the visit (issue 26)', () => {
  it('twice-daily care: 97116 7 min at 09:00 and 7 min at 15:00 -> 14 minutes, 1 unit, one line naming both visits', () => {
    const result = billDay({ hour: 9, services: [{ code: '97116', minutes: 7, by: [PT] }] }, { hour: 15, services: [{ code: '97116', minutes: 7, by: [PT] }] });
    expect(lines(result.claim)).toEqual([['97116', 'GP', 1]]);
    expect(result.claim!.item![0]!.encounter).toEqual([{ reference: 'Encounter/visit-1' }, { reference: 'Encounter/visit-2' }]);
    expect(result.claim!.status).toBe('active');
    const charge = result.chargeItems[0]!;
    expect(charge.service).toEqual([{ reference: 'Procedure/visit-1-0' }, { reference: 'Procedure/visit-2-0' }]);
    expect(charge.supportingInformation).toEqual([{ reference: 'Encounter/visit-1' }, { reference: 'Encounter/visit-2' }]);
    expect(charge.note![0]!.text).toBe('97116 PT on 2026-11-10: 7 min (Procedure/visit-1-0, Encounter/visit-1) + 7 min (Procedure/visit-2-0, Encounter/visit-2) = 14 minutes of the date\'s PT 97116 -> 1 unit(s) on this line.');
    // Each visit is told why: alone it earns no unit, the date does.
    const why = result.findings.filter((f) => f.ruleId === 'billing-date-of-service-units');
    expect(why.map((f) => [f.severity, f.implicated![0]])).toEqual([['warning', 'Encounter/visit-1'], ['warning', 'Encounter/visit-2']]);
    expect(why[0]!.message).toMatch(/this visit's 7 minutes would earn 0 unit\(s\) alone, .* the 14 timed PT minutes of 2 visits on 2026-11-10 are counted together .* 97116 gets 1 unit\(s\) on one line/);
  });

  it('the reverse: 97116 10 + 10 minutes in two visits earn 1 unit on the date, not 1 + 1, and both visits say so', () => {
    const result = billDay({ hour: 9, services: [{ code: '97116', minutes: 10, by: [PT] }] }, { hour: 15, services: [{ code: '97116', minutes: 10, by: [PT] }] });
    expect(lines(result.claim)).toEqual([['97116', 'GP', 1]]);
    const why = result.findings.filter((f) => f.ruleId === 'billing-date-of-service-units');
    expect(why).toHaveLength(2);
    expect(why[0]!.message).toMatch(/would earn 1 unit\(s\) alone.*\(2 visit\(s\) with 97116 would earn 2 apart\)/);
  });

  it('one visit, or visits whose units add up, get no date-level finding', () => {
    const one = billDay({ hour: 9, services: [{ code: '97116', minutes: 7, by: [PT] }, { code: '97110', minutes: 8, by: [PT] }] });
    const adding = billDay({ hour: 9, services: [{ code: '97116', minutes: 15, by: [PT] }] }, { hour: 15, services: [{ code: '97110', minutes: 15, by: [PT] }] });
    expect(lines(adding.claim)).toEqual([['97116', 'GP', 1], ['97110', 'GP', 1]]);
    for (const r of [one, adding]) expect(r.findings.map((f) => f.ruleId)).not.toContain('billing-date-of-service-units');
  });

  it('disciplines apart: PT 97116 10 min and OT 97530 10 min on one date -> 1 GP unit and 1 GO unit', () => {
    const result = billDay({ hour: 9, services: [{ code: '97116', minutes: 10, by: [PT] }] }, { hour: 11, services: [{ code: '97530', minutes: 10, by: [OT] }] });
    // 59: 97530/97116 is an NCCI pair, which holds for one billing provider's date whatever the discipline (the
    // services here document distinct 15-minute blocks).
    expect(lines(result.claim)).toEqual([['97116', 'GP 59', 1], ['97530', 'GO', 1]]);
    expect(result.findings.map((f) => f.ruleId)).not.toContain('billing-no-units');
  });

  it('each discipline pools its own visits: PT 7 + 8 and OT 7 -> 1 GP unit; OT\'s 7 minutes earn nothing and say so', () => {
    const result = billDay(
      { hour: 9, services: [{ code: '97116', minutes: 7, by: [PT] }, { code: '97535', minutes: 7, by: [OT] }] },
      { hour: 15, services: [{ code: '97110', minutes: 8, by: [PT] }] },
    );
    // 15 PT minutes: 1 unit, to the code with the most minutes (Pub 100-04 ch. 5 §20.2).
    expect(lines(result.claim)).toEqual([['97110', 'GP', 1]]);
    const noUnits = result.findings.filter((f) => f.ruleId === 'billing-no-units').map((f) => f.message);
    expect(noUnits.some((m) => m.startsWith('97535 (OT, 2026-11-10): 7 minutes earn no unit'))).toBe(true);
    expect(noUnits.some((m) => m.startsWith('97116 (PT, 2026-11-10): 7 minutes earn no unit'))).toBe(true);
  });

  it('KX pools PT and SLP together and OT apart, on the date\'s lines', () => {
    const prior = [{ date: '2026-03-01', discipline: 'PT' as const, allowed: 2475 }];
    const result = buildBilling(combineSessions([session(1, { hour: 9, services: [{ code: '97116', minutes: 15, by: [PT] }] }), session(2, { hour: 11, services: [{ code: '97535', minutes: 15, by: [OT] }] })]), medicare, fees, prior);
    expect(lines(result.claim)).toEqual([['97116', 'GP KX', 1], ['97535', 'GO', 1]]);
  });

  it('the 97116 cap counts the discipline\'s date: 3 + 2 units in two visits hold the claim without a justification', () => {
    const facts = combineSessions([
      { ...session(1, { hour: 9, services: [{ code: '97116', minutes: 45, by: [PT] }] }) },
      { ...session(2, { hour: 15, services: [{ code: '97116', minutes: 30, by: [PT] }] }) },
    ].map((s) => ({ ...s, services: s.services.map((x) => ({ ...x, justified: false })) })));
    const result = buildBilling(facts, medicare, fees, []);
    expect(lines(result.claim)).toEqual([['97116', 'GP', 5]]);
    expect(result.findings.map((f) => f.ruleId)).toContain('billing-session-cap');
    expect(result.claim!.status).toBe('draft');
  });
});

describe('co-treatment under discipline pooling', () => {
  it('PT and OT together 60 minutes, split: 30 minutes each, 2 + 2 units', () => {
    const result = billDay({ hour: 9, services: [{ code: '97116', minutes: 60, by: [PT, OT] }] });
    expect(lines(result.claim)).toEqual([['97116', 'GP', 2], ['97116', 'GO', 2]]);
  });

  it('never more units than the co-treated minutes allow, whatever the minutes and shares', () => {
    const base = session(1, { hour: 9, services: [{ code: '97116', minutes: 1, by: [PT, OT] }] }).services[0]!;
    fc.assert(
      fc.property(fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 240 }), fc.integer({ min: 0, max: 240 }), fc.boolean(), (minutes, pt, ot, split) => {
        const service: ServiceFact = { ...base, minutes, performers: [{ ...PT, documentedMinutes: pt }, { ...OT, documentedMinutes: ot }] };
        const parts = coTreatmentParts(service, ['PT', 'OT'], split ? 'split' : 'single');
        expect(parts.reduce((n, p) => n + (p.service.minutes ?? 0), 0)).toBe(minutes);
        expect(parts.reduce((n, p) => n + cmsTotalUnits(p.service.minutes ?? 0), 0)).toBe(cmsTotalUnits(minutes));
      }),
    );
  });
});

/** A random day: services of PT and OT (therapists only, so that every unit is a plain GP or GO unit). */
const timedCode = fc.constantFrom(...TIMED_CODES.filter((c) => fees.fees.some((e) => e.code === c)));
const service = fc.record({ code: timedCode, minutes: fc.integer({ min: 1, max: 70 }), discipline: fc.constantFrom<Discipline>('PT', 'OT') });
const day = fc.array(service, { minLength: 1, maxLength: 8 });

/** Services spread over 1-4 visits, a service's minutes possibly split over several visits. */
function spread(services: { code: string; minutes: number; discipline: Discipline }[], cuts: number[]): Visit[] {
  const visits: Visit[] = [1, 2, 3, 4].map((n) => ({ hour: 7 + 2 * n, services: [] }));
  services.forEach((s, i) => {
    const cut = cuts[i % cuts.length]! % (s.minutes + 1);
    const parts = [cut, s.minutes - cut].filter((m) => m > 0);
    parts.forEach((m, j) => visits[(i + j * 3) % (1 + (cuts[0]! % 4))]!.services.push({ code: s.code, minutes: m, by: [performer(s.discipline)] }));
  });
  return visits.filter((v) => v.services.length > 0);
}

describe('properties of the pooled rule (fast-check)', () => {
  it('the units of each discipline are the 8-minute table\'s value for that discipline\'s day total', () => {
    fc.assert(
      fc.property(day, fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 8 }), (services, cuts) => {
        const facts = combineSessions(spread(services, cuts).map((v, i) => session(i + 1, v)));
        const result = computeLines(facts, medicare, fees, []);
        for (const discipline of ['PT', 'OT'] as const) {
          const total = services.filter((s) => s.discipline === discipline).reduce((n, s) => n + s.minutes, 0);
          const billed = result.lines.filter((l) => l.discipline === discipline).reduce((n, l) => n + l.units, 0);
          expect(billed).toBe(cmsTotalUnits(total));
        }
      }),
    );
  });

  it('no line gets minutes from another discipline', () => {
    fc.assert(
      fc.property(day, fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 8 }), (services, cuts) => {
        const result = computeLines(combineSessions(spread(services, cuts).map((v, i) => session(i + 1, v))), medicare, fees, []);
        for (const line of result.lines) {
          for (const s of line.services) expect(s.performers.every((p) => p.discipline === line.discipline)).toBe(true);
          const own = services.filter((s) => s.discipline === line.discipline && s.code === line.code).reduce((n, s) => n + s.minutes, 0);
          expect(line.minutes).toBe(own);
        }
      }),
    );
  });

  it('splitting a day\'s minutes across any number of visits never changes the lines (units, modifiers)', () => {
    fc.assert(
      fc.property(day, fc.array(fc.nat({ max: 100 }), { minLength: 1, maxLength: 8 }), (services, cuts) => {
        const oneVisit = billDay({ hour: 8, services: services.map((s) => ({ code: s.code, minutes: s.minutes, by: [performer(s.discipline)] })) });
        const spreadOut = billDay(...spread(services, cuts));
        const sorted = (claim: Claim | null) => lines(claim).sort((a, b) => a.join().localeCompare(b.join()));
        expect(sorted(spreadOut.claim)).toEqual(sorted(oneVisit.claim));
      }),
    );
  });

  it('the claim key is the patient, the date, the coverage and the billing provider', () => {
    const result = billDay({ hour: 9, services: [{ code: '97116', minutes: 30, by: [PT] }] }, { hour: 15, services: [{ code: '97110', minutes: 30, by: [PT] }] });
    expect(result.claim!.identifier![0]!.value).toBe(`${REF.patient}|${DATE}|${REF.coverage}|${REF.clinic}`);
  });
});
