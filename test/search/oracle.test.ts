/**
 * The oracle (issue 3, Show): random resources and random searches (fast-check). For the parameter types that both
 * cover (token, string, reference, date, :missing), the indexed search over HTTP returns exactly the resources that
 * the interim scan searcher accepts, which runs @medplum/core's in-memory matcher (`matchesSearchRequest`) over the
 * same stored resources.
 *
 * Where the two define a search differently, the generated data keeps to the ground they share, and the query is
 * translated: Medplum's plain string search is "contains", so `family:contains=x` here is `family=x` there;
 * Medplum compares tokens ignoring case, so codes are lower case; Medplum's date `eq` is an overlap where R4 says
 * "contains", so every stored date is as precise as the search day or more (nested or disjoint ranges, on which the
 * two agree); `ne` and `ap` are left out (Medplum negates overlap, and reads `ap` as `eq`).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { createScanSearcher } from '../../src/search/scan-searcher.js';
import { fhir } from '../support/http.js';
import { ids, load } from './support.js';

const TAG_SYSTEM = 'urn:oracle';
const RUNS = Number(process.env.STRIDE_ORACLE_RUNS ?? 40);
const QUERIES_PER_RUN = 12;

const word = fc.string({ unit: fc.constantFrom('a', 'b', 'c', 'd'), minLength: 1, maxLength: 4 });
const code = fc.constantFrom('a1', 'b2', 'c3', 'd4');
const system = fc.constantFrom('http://s1', 'http://s2');
const dayOf = (d: number): string => `2024-01-${String(d + 1).padStart(2, '0')}`;
const day = fc.integer({ min: 0, max: 9 }).map(dayOf);
const instant = fc.tuple(fc.integer({ min: 0, max: 9 }), fc.integer({ min: 0, max: 23 })).map(([d, h]) => `${dayOf(d)}T${String(h).padStart(2, '0')}:15:00Z`);
const opt = <T>(a: fc.Arbitrary<T>) => fc.option(a, { nil: undefined });

const patientShape = fc.record({
  gender: opt(fc.constantFrom('male', 'female', 'other')),
  active: opt(fc.boolean()),
  identifier: fc.array(fc.record({ system, value: code }), { maxLength: 2 }),
  name: fc.array(fc.record({ family: opt(word), given: fc.array(word, { maxLength: 2 }) }), { maxLength: 2 }),
  birthDate: opt(day),
  gp: opt(fc.constantFrom('Practitioner/x1', 'Practitioner/x2', 'Organization/o1')),
});

const observationShape = fc.record({
  status: fc.constantFrom('final', 'amended', 'preliminary'),
  coding: fc.array(fc.record({ system, code }), { minLength: 1, maxLength: 2 }),
  subject: opt(fc.integer({ min: 0, max: 5 })),
  effective: opt(fc.oneof(day, instant)),
  valueString: opt(word),
});

type PatientShape = typeof patientShape extends fc.Arbitrary<infer T> ? T : never;
type ObservationShape = typeof observationShape extends fc.Arbitrary<infer T> ? T : never;

function toPatient(p: PatientShape, id: string, tag: string): Resource {
  const r: Record<string, unknown> = { resourceType: 'Patient', id, meta: { tag: [{ system: TAG_SYSTEM, code: tag }] } };
  if (p.gender) r.gender = p.gender;
  if (p.active !== undefined) r.active = p.active;
  if (p.identifier.length) r.identifier = p.identifier;
  const names = p.name.filter((n) => n.family || n.given.length).map((n) => ({ ...(n.family ? { family: n.family } : {}), ...(n.given.length ? { given: n.given } : {}) }));
  if (names.length) r.name = names;
  if (p.birthDate) r.birthDate = p.birthDate;
  if (p.gp) r.generalPractitioner = [{ reference: p.gp }];
  return r as unknown as Resource;
}

function toObservation(o: ObservationShape, id: string, tag: string, patients: string[]): Resource {
  const r: Record<string, unknown> = { resourceType: 'Observation', id, status: o.status, code: { coding: o.coding }, meta: { tag: [{ system: TAG_SYSTEM, code: tag }] } };
  if (o.subject !== undefined && patients.length) r.subject = { reference: `Patient/${patients[o.subject % patients.length]}` };
  if (o.effective) r.effectiveDateTime = o.effective;
  if (o.valueString) r.valueString = o.valueString;
  return r as unknown as Resource;
}

/** One condition: [name, value] for Stride, and the same search as Medplum's matcher spells it. */
type Condition = { stride: [string, string]; medplum: [string, string] };
const same = (name: string, value: string): Condition => ({ stride: [name, value], medplum: [name, value] });
const prefix = fc.constantFrom('', 'eq', 'lt', 'gt', 'le', 'ge', 'sa', 'eb');

const patientCondition: fc.Arbitrary<Condition> = fc.oneof(
  fc.constantFrom('male', 'female', 'other').map((g) => same('gender', g)),
  fc.constantFrom('male', 'female').map((g) => same('gender:not', g)),
  fc.boolean().map((b) => same('active', String(b))),
  fc.tuple(fc.option(system), code).map(([sys, c]) => same('identifier', sys ? `${sys}|${c}` : c)),
  fc.tuple(code, code).map(([a, b]) => same('identifier', `${a},${b}`)),
  fc.tuple(fc.constantFrom('family', 'given', 'name'), word).map(([p, w]): Condition => ({ stride: [`${p}:contains`, w], medplum: [p, w] })),
  fc.constantFrom('Practitioner/x1', 'Practitioner/x2', 'Organization/o1').map((ref) => same('general-practitioner', ref)),
  fc.tuple(prefix, day).map(([p, d]) => same('birthdate', `${p}${d}`)),
  fc.tuple(fc.constantFrom('gender', 'birthdate', 'family', 'general-practitioner', 'identifier', 'active'), fc.boolean()).map(([p, b]) => same(`${p}:missing`, String(b))),
);

const observationCondition = (patients: string[]): fc.Arbitrary<Condition> =>
  fc.oneof(
    fc.tuple(fc.option(system), code).map(([sys, c]) => same('code', sys ? `${sys}|${c}` : c)),
    fc.constantFrom('final', 'amended', 'preliminary', 'final,amended').map((v) => same('status', v)),
    fc.integer({ min: 0, max: 5 }).map((i) => same('subject', `Patient/${patients[i % patients.length] ?? 'none'}`)),
    fc.tuple(prefix, day).map(([p, d]) => same('date', `${p}${d}`)),
    word.map((w): Condition => ({ stride: ['value-string:contains', w], medplum: ['value-string', w] })),
    fc.tuple(fc.constantFrom('subject', 'date', 'value-string'), fc.boolean()).map(([p, b]) => same(`${p}:missing`, String(b))),
  );

const query = (condition: fc.Arbitrary<Condition>) => fc.array(condition, { minLength: 1, maxLength: 3 });

describeEachEngine('search oracle: indexed search equals @medplum/core matchesSearchRequest', (engine) => {
  let s: TestServer;
  let cases = 0;
  let searches = 0;
  let nonEmpty = 0;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_MAX_COUNT: '1000' });
  });
  afterAll(async () => {
    console.log(`search oracle [${engine.name}]: ${cases} generated cases, ${searches} searches compared (${nonEmpty} with matches)`);
    await s?.close();
  });

  async function compare(type: string, tag: string, conditions: Condition[]): Promise<void> {
    const strideQuery = new URLSearchParams([['_tag', `${TAG_SYSTEM}|${tag}`], ['_count', '1000'], ...conditions.map((c) => c.stride)]);
    const r = await fhir<Bundle>(s.baseUrl, 'GET', `${type}?${strideQuery}`);
    expect(r.status, r.text.slice(0, 300)).toBe(200);
    const params: Record<string, string[]> = { _tag: [`${TAG_SYSTEM}|${tag}`] };
    for (const c of conditions) (params[c.medplum[0]] ??= []).push(c.medplum[1]);
    const scan = await createScanSearcher().search(s.stride.store.reader, { resourceType: type, params, count: 100_000, offset: 0, total: 'none' });
    const expected = scan.rows.map((row) => row.id).sort();
    expect(ids(r.body).sort(), `${type}?${strideQuery}`).toEqual(expected);
    searches++;
    if (expected.length) nonEmpty++;
  }

  it('random Patients and Observations, random searches: the same resources', async () => {
    const scenario = fc.record({
      patients: fc.array(patientShape, { minLength: 1, maxLength: 8 }),
      observations: fc.array(observationShape, { maxLength: 8 }),
      patientQueries: fc.array(query(patientCondition), { minLength: QUERIES_PER_RUN / 2, maxLength: QUERIES_PER_RUN / 2 }),
      observationSeeds: fc.array(fc.nat(), { minLength: QUERIES_PER_RUN / 2, maxLength: QUERIES_PER_RUN / 2 }),
    });
    await fc.assert(
      fc.asyncProperty(scenario, async (sc) => {
        const tag = `case${cases++}`;
        const patientIds = sc.patients.map((_, i) => `${tag}-p${i}`);
        const resources = [
          ...sc.patients.map((p, i) => toPatient(p, patientIds[i], tag)),
          ...sc.observations.map((o, i) => toObservation(o, `${tag}-o${i}`, tag, patientIds)),
        ];
        await load(s.baseUrl, resources);
        for (const q of sc.patientQueries) await compare('Patient', tag, q);
        for (const seed of sc.observationSeeds) {
          const [q] = fc.sample(query(observationCondition(patientIds)), { numRuns: 1, seed });
          await compare('Observation', tag, q);
        }
      }),
      { numRuns: RUNS },
    );
    expect(cases).toBeGreaterThanOrEqual(RUNS);
  }, 600_000);
});
