/**
 * The example session with random mutations (fast-check): an element left out or replaced by a value of another
 * shape (null, an empty or wrong-typed value, a dangling reference, an odd status or date), then sometimes updated
 * or deleted again. Whatever the change, the server answers with a 2xx or a 4xx OperationOutcome, never a 5xx, and
 * neither bot fails on it: the guide's profiles and the validator refuse what is malformed, and the bots turn what
 * is valid but incomplete into findings. Each shape below once produced a 500 or a bot failure (found by fuzzing).
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import fc from 'fast-check';
import type { Bundle, OperationOutcome, Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { sessionBundle } from './session.js';
import { paths } from '../support/paths.js';

const JUNK: unknown[] = [
  null, 0, -1, 1.5, true, '', 'x', [], {}, [null], { a: 1 },
  { reference: 'Patient/nope' }, { reference: 'Procedure/nope' }, [{ reference: 'Encounter/nope' }],
  'entered-in-error', 'cancelled', 'in-progress', 'not-done', '2026-02-30', '2030-01-01T00:00:00Z',
  { start: '2026-03-02T10:00:00Z', end: '2026-03-02T09:00:00Z' },
  { coding: [{ system: 'http://snomed.info/sct', code: '22325002' }] },
  { text: 'no code' },
];

/** Applies one mutation: `pick` chooses the path, `junk` the replacement (-1: leave the element out). */
function mutate(resource: Resource, pick: number, junk: number): void {
  const all = paths(resource);
  if (all.length === 0) return;
  const path = all[pick % all.length]!;
  let holder = resource as unknown as Record<string, unknown>;
  for (const key of path.slice(0, -1)) holder = holder[key] as Record<string, unknown>;
  const key = path[path.length - 1]!;
  if (junk < 0) delete holder[key];
  else holder[key] = structuredClone(JUNK[junk % JUNK.length]);
}

const failures = (body: Bundle | OperationOutcome): string[] => {
  const issues = body.resourceType === 'Bundle' ? (body.entry ?? []).flatMap((e) => (e.response?.outcome as OperationOutcome | undefined)?.issue ?? []) : body.issue;
  return (issues ?? []).map((i) => i.details?.text ?? '').filter((t) => /^Bot .* failed/.test(t));
};

describeEachEngine('mutated sessions', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine);
  });
  afterAll(async () => s?.close());

  it('a randomly mutated session, then updated or deleted, never gets a 5xx or makes a bot fail', async () => {
    let stored = 0;
    let refused = 0;
    const mutation = fc.record({ entry: fc.nat(), pick: fc.nat(), junk: fc.integer({ min: -150, max: 200 }) });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 2 }), fc.nat(), fc.integer({ min: 0, max: 2 }), async (mutations, followPick, follow) => {
        const bundle = sessionBundle();
        for (const m of mutations) {
          const entry = bundle.entry![m.entry % bundle.entry!.length]!;
          mutate(entry.resource!, m.pick, m.junk);
        }
        const reply = await fhir<Bundle>(s.baseUrl, 'POST', '', bundle);
        expect(reply.status, reply.text.slice(0, 500)).toBeLessThan(500);
        if (reply.status !== 200) {
          expect((reply.body as unknown as OperationOutcome).resourceType).toBe('OperationOutcome');
          refused++;
          return;
        }
        stored++;
        expect(failures(reply.body)).toEqual([]);
        // Then one of the stored resources changes again (a second mutation) or goes away: the bots re-run.
        const locations = (reply.body.entry ?? []).map((e) => e.response?.location?.split('/_history')[0]).filter((l): l is string => !!l);
        const location = locations[followPick % locations.length]!;
        if (follow === 0) return;
        const next =
          follow === 1
            ? await fhir(s.baseUrl, 'DELETE', location)
            : await (async () => {
                const current = (await fhir<Resource>(s.baseUrl, 'GET', location)).body;
                mutate(current, followPick, (followPick % 20) - 4);
                if (!current.id) return { status: 0, body: { resourceType: 'OperationOutcome', issue: [] } as OperationOutcome, text: '' };
                return fhir<OperationOutcome>(s.baseUrl, 'PUT', location, current, { Prefer: 'return=OperationOutcome' });
              })();
        expect(next.status, `${location}: ${next.text?.slice(0, 500)}`).toBeLessThan(500);
        if (next.body && (next.body as OperationOutcome).resourceType === 'OperationOutcome') expect(failures(next.body as OperationOutcome)).toEqual([]);
      }),
      { numRuns: 300, seed: 97116 },
    );
    // Both paths ran: mutations the server refused and mutated sessions it stored (and the bots checked).
    console.log(`mutated sessions: ${stored} stored, ${refused} refused`);
    expect(stored).toBeGreaterThan(30);
    expect(refused).toBeGreaterThan(30);
  });
});
