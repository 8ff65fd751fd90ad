/** Creates (issue 2, DESIGN §8): POST /fhir/Observation, a small gait-speed Observation, 16 in flight; >= 3,000/s. */
import { startStride, type BenchModule } from './harness.js';
import { runLoad } from './load.js';

const CONCURRENCY = 16;

/** A small, valid Observation; the value varies so that no two bodies are the same string. */
function observation(i: number): string {
  return JSON.stringify({
    resourceType: 'Observation',
    status: 'final',
    code: { coding: [{ system: 'http://loinc.org', code: '83172-7', display: 'Gait speed' }] },
    subject: { reference: 'Patient/bench-1' },
    effectiveDateTime: '2026-03-02T10:00:00Z',
    valueQuantity: { value: 0.5 + (i % 50) / 100, unit: 'm/s', system: 'http://unitsofmeasure.org', code: 'm/s' },
  });
}

export const createBench: BenchModule = {
  name: 'create',
  async run(ctx) {
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    try {
      const load = { url: `http://127.0.0.1:${stride.port}/fhir/Observation`, method: 'POST', headers: { 'Content-Type': 'application/fhir+json', Prefer: 'return=minimal' }, body: observation, concurrency: CONCURRENCY, status: 201 };
      await runLoad({ ...load, durationMs: 1000 });
      const r = await runLoad({ ...load, durationMs: ctx.quick ? 3000 : 8000 });
      ctx.log(`create: ${r.perSecond.toFixed(0)}/s, errors ${r.errors} ${JSON.stringify(r.statuses)}`);
      return [{ name: 'create (Observation)', value: r.perSecond, unit: 'creates/s', against: 3000, againstLabel: 'target', better: 'higher', note: `${CONCURRENCY} in flight, Prefer: return=minimal; ${r.requests} creates, errors ${r.errors}` }];
    } finally {
      await stride.stop();
      await db.drop();
    }
  },
};
