/**
 * The fast FHIRPath closures (src/bots/fhirpath-fast.ts) against fhirpath.js, the reference: whenever the closures
 * answer, the answer is fhirpath.js's. Checked on every trigger and rule expression of the shipped bots, over the
 * guide's examples and thousands of mutations of them, and on generated expressions over generated resources. The
 * closures must also answer most of the time (a closure that always deferred to fhirpath.js would pass the
 * agreement checks and speed nothing up).
 */
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import type { Resource } from '@medplum/fhirtypes';
import { compileFast, type Model } from '../../src/bots/fhirpath-fast.js';
import { compileCondition } from '../../src/bots/fhirpath.js';
import documentation from '../../bots/documentation-97116/index.js';
import billing from '../../bots/billing/index.js';
import { paths } from '../support/paths.js';
import { syntheaFiles, syntheaMissing } from '../support/synthea.js';

const model = r4 as unknown as Model;
const EXAMPLES = path.resolve(__dirname, '../../profiles/examples');
type Env = Record<string, unknown>;

/** fhirpath.js's answer to "is the result a single true?" (values resolved: a boolean element counts), or its error. */
function reference(expression: string, input: unknown, env: Env): boolean | 'error' {
  try {
    const result = fhirpath.evaluate(input, expression, env, r4) as unknown[];
    return result.length === 1 && result[0] === true;
  } catch {
    return 'error';
  }
}

interface Tally {
  answered: number;
  deferred: number;
}

/** Evaluates with both; returns a description of the disagreement, if any. */
function compare(expression: string, fast: NonNullable<ReturnType<typeof compileFast>>, input: unknown, env: Env, tally: Tally): string | undefined {
  let answer: boolean | undefined;
  try {
    answer = fast(input, env);
  } catch (err) {
    return `the closure threw ${(err as Error).message} on ${expression}`;
  }
  if (answer === undefined) {
    tally.deferred++;
    return undefined;
  }
  tally.answered++;
  const expected = reference(expression, input, env);
  return answer === expected ? undefined : `${expression}: closures ${answer}, fhirpath.js ${expected} on ${JSON.stringify(input).slice(0, 400)}`;
}

function exampleResources(): Resource[] {
  const out: Resource[] = [];
  for (const file of fs.readdirSync(EXAMPLES).filter((f) => f.endsWith('.json'))) {
    const json = JSON.parse(fs.readFileSync(path.join(EXAMPLES, file), 'utf8')) as Resource & { entry?: Array<{ resource?: Resource }> };
    if (json.resourceType === 'Bundle') out.push(...(json.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : [])));
    else if (json.resourceType) out.push(json); // invalid-index.json describes the others
  }
  return out;
}

/** The session's other resources as the rules' %variables. */
function environmentOf(resources: Resource[]): Env {
  const of = (type: string) => resources.filter((r) => r.resourceType === type);
  return { diagnoses: of('Condition'), goals: of('Goal'), priorLevel: of('Observation'), observations: of('Observation'), plans: of('CarePlan') };
}

/** Every trigger and rule expression of the shipped bots. */
function botExpressions(): string[] {
  const out: string[] = [];
  for (const bot of [documentation, billing]) {
    out.push(...(typeof bot.when === 'string' ? [bot.when] : Object.values(bot.when)));
    for (const rule of bot.rules) if (rule.expression) out.push(rule.expression);
  }
  return out;
}

const JUNK: unknown[] = [
  null, 0, 1.5, true, false, '', 'final', 'FINAL', 'x', [], {}, [null], ['a', 'b'], { a: 1 }, [{}],
  { extension: [{ url: 'http://example.org/x', valueString: 'y' }] },
  { start: '2026-03-02T10:00:00Z' }, { coding: [{ system: 'http://loinc.org', code: '85071-9' }, { code: 'd450' }] },
  [{ text: 'Techniques: x' }, { text: 'RESPONSE: y' }], { value: 3, unit: 'm/s' },
];

/** Leaves out, replaces, or adds a `_` twin (a primitive's extensions) next to one element. */
function mutate(resource: Resource, pick: number, junk: number): Resource {
  const copy = structuredClone(resource) as unknown as Record<string, unknown>;
  const all = paths(copy);
  if (all.length === 0) return copy as unknown as Resource;
  const at = all[pick % all.length];
  let holder = copy;
  for (const key of at.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  const key = at[at.length - 1];
  if (junk === -1) delete holder[key];
  else if (junk === -2 && !Array.isArray(holder)) holder[`_${key}`] = { extension: [{ url: 'http://example.org/x', valueBoolean: true }] };
  else holder[key] = structuredClone(JUNK[Math.abs(junk) % JUNK.length]);
  return copy as unknown as Resource;
}

describe('fast FHIRPath closures agree with fhirpath.js', () => {
  const resources = exampleResources();
  const expressions = botExpressions();

  it('every trigger and rule expression of the shipped bots is in the fast subset', () => {
    expect(expressions.length).toBeGreaterThan(10);
    const outside = expressions.filter((e) => !compileFast(e, model));
    expect(outside).toEqual([]);
  });

  it('the bots\' expressions give fhirpath.js\'s answer on every example resource, and the closures answer all of them', () => {
    const tally: Tally = { answered: 0, deferred: 0 };
    const env = environmentOf(resources);
    const wrong: string[] = [];
    for (const expression of expressions) {
      const fast = compileFast(expression, model)!;
      for (const input of resources) {
        const problem = compare(expression, fast, input, env, tally);
        if (problem) wrong.push(problem);
      }
    }
    expect(wrong).toEqual([]);
    // The guide's examples are what sessions look like: no expression has to be handed to fhirpath.js there.
    expect(tally).toEqual({ answered: expressions.length * resources.length, deferred: 0 });
  });

  it('the bots\' expressions give fhirpath.js\'s answer on mutated examples', () => {
    const tally: Tally = { answered: 0, deferred: 0 };
    const compiled = expressions.map((e) => [e, compileFast(e, model)!] as const);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.nat(resources.length - 1), fc.nat(), fc.integer({ min: -2, max: JUNK.length - 1 })), { minLength: 1, maxLength: 6 }), (changes) => {
        const mutated = resources.map((r) => r);
        for (const [which, pick, junk] of changes) mutated[which] = mutate(mutated[which], pick, junk);
        const env = environmentOf(mutated);
        for (const [which] of changes) {
          for (const [expression, fast] of compiled) {
            const problem = compare(expression, fast, mutated[which], env, tally);
            if (problem) throw new Error(problem);
          }
        }
      }),
      { seed: 97116, numRuns: 400 },
    );
    expect(tally.answered).toBeGreaterThan(0.5 * (tally.answered + tally.deferred));
  });

  it('generated expressions give fhirpath.js\'s answer on generated resources', () => {
    const tally: Tally = { answered: 0, deferred: 0 };
    // Paths that lead somewhere in the examples (array indexes dropped, choice names as FHIRPath writes them), and
    // random walks over common member names.
    const real = [...new Set(resources.flatMap((r) => paths(r).map((keys) => keys.filter((k) => !/^\d+$/.test(k)).map((k) => k.replace(/^(value|performed|effective|onset)[A-Z].*$/, '$1')).join('.'))))].filter((p) => /^[a-z][A-Za-z.]*$/.test(p));
    const member = fc.constantFrom('status', 'code', 'coding', 'system', 'text', 'value', 'component', 'performed', 'extension', 'note', 'active', 'url', 'reference', 'start', 'lifecycleStatus', 'category');
    const pathArb = fc.oneof(fc.constantFrom(...real), fc.array(member, { minLength: 1, maxLength: 3 }).map((m) => m.join('.')));
    const literal = fc.constantFrom("'final'", "'a'", "'http://loinc.org'", "'d450'", "''", 'true', 'false');
    const { condition } = fc.letrec<{ condition: string }>((tie) => ({
      condition: fc.oneof(
        { depthSize: 'small', withCrossShrink: true },
        pathArb.map((p) => `${p}.exists()`),
        pathArb.map((p) => `${p}.empty()`),
        pathArb,
        fc.tuple(pathArb, fc.constantFrom('=', '!=', 'contains'), literal).map(([p, op, l]) => `${p} ${op} ${l}`),
        fc.tuple(literal, pathArb).map(([l, p]) => `${l} in ${p}`),
        fc.tuple(pathArb, fc.constantFrom('=', '!=', 'contains', 'in', '|'), pathArb).map(([a, op, b]) => (op === '|' ? `(${a} | ${b}).exists()` : `${a} ${op} ${b}`)),
        fc.tuple(pathArb, fc.array(literal, { minLength: 1, maxLength: 3 })).map(([p, ls]) => `${p} in (${ls.join(' | ')})`),
        fc.tuple(pathArb, tie('condition')).map(([p, c]) => `${p}.where(${c}).exists()`),
        fc.tuple(pathArb, tie('condition')).map(([p, c]) => `${p}.exists(${c})`),
        fc.tuple(pathArb, tie('condition')).map(([p, c]) => `${p}.all(${c})`),
        fc.tuple(tie('condition'), fc.constantFrom('and', 'or', 'xor', 'implies'), tie('condition')).map(([a, op, b]) => `(${a}) ${op} (${b})`),
        tie('condition').map((c) => `(${c}).not()`),
        fc.tuple(pathArb, fc.constantFrom('lower', 'upper'), fc.constantFrom('startsWith', 'endsWith')).map(([p, f, g]) => `${p}.${f}().${g}('f')`),
        pathArb.map((p) => `${p}.matches('^[a-z]+$')`),
        pathArb.map((p) => `${p}.ofType(Period).exists()`),
        pathArb.map((p) => `${p}.ofType(CodeableConcept).exists()`),
        fc.constantFrom("extension('http://example.org/x').exists()", "extension('http://example.org/x').value = 'y'", '$this.status.exists()'),
        tie('condition').map((c) => `%observations.where(${c}).exists()`),
      ),
    }));
    const input = fc.tuple(fc.nat(resources.length - 1), fc.array(fc.tuple(fc.nat(), fc.integer({ min: -2, max: JUNK.length - 1 })), { maxLength: 4 }));
    fc.assert(
      fc.property(condition, input, (expression, [which, changes]) => {
        let resource = resources[which];
        for (const [pick, junk] of changes) resource = mutate(resource, pick, junk);
        let fast;
        try {
          fast = compileFast(expression, model);
        } catch {
          return; // not valid FHIRPath: fhirpath.js refuses it too (checked below)
        }
        if (!fast) return;
        const problem = compare(expression, fast, resource, environmentOf(resources), tally);
        if (problem) throw new Error(problem);
      }),
      { seed: 97116, numRuns: 20000 },
    );
    expect(tally.answered).toBeGreaterThan(0.5 * (tally.answered + tally.deferred));
  });

  it.skipIf(syntheaMissing())('every expression of the shipped bots gives fhirpath.js\'s answer on the Synthea patients', () => {
    const tally: Tally = { answered: 0, deferred: 0 };
    const compiled = expressions.map((e) => [e, compileFast(e, model)!] as const);
    const wrong: string[] = [];
    for (const file of syntheaFiles().slice(0, 6)) {
      const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as { entry?: Array<{ resource?: Resource }> };
      const all = (bundle.entry ?? []).flatMap((e) => (e.resource ? [e.resource] : []));
      const env = environmentOf(all);
      for (const input of all) {
        for (const [expression, fast] of compiled) {
          const problem = compare(expression, fast, input, env, tally);
          if (problem) wrong.push(problem);
        }
      }
    }
    expect(wrong.slice(0, 5)).toEqual([]);
    expect(tally.answered).toBeGreaterThan(0.9 * (tally.answered + tally.deferred));
  });

  it('a boolean element of the data is a condition of its own, whichever engine answers', () => {
    const active = compileCondition('active', 'test');
    const fast = compileFast('active', model)!;
    expect(fast({ resourceType: 'Patient', active: true }, {})).toBe(true);
    expect(active({ resourceType: 'Patient', active: true })).toBe(true);
    expect(active({ resourceType: 'Patient', active: false })).toBe(false);
    // An extension on the primitive: the closures leave it to fhirpath.js, which answers the same.
    const withExtension = { resourceType: 'Patient', active: true, _active: { extension: [{ url: 'http://example.org/x', valueBoolean: true }] } };
    expect(fast(withExtension, {})).toBeUndefined();
    expect(active(withExtension)).toBe(true);
  });

  it('what is outside the subset is left to fhirpath.js, and a syntax error is fhirpath.js\'s', () => {
    for (const outside of ['count() > 1', 'name.given.first()', "iif(active, 'a', 'b') = 'a'", 'Patient.active', "value ~ 'x'", 'name.given[0]']) {
      expect(compileFast(outside, model), outside).toBeUndefined();
    }
    expect(() => compileFast('status = ', model)).toThrow();
  });
});
