/**
 * Read by id (issue 2, DESIGN §8): GET /fhir/Patient/[id] on Stride beside a bare express 5 handler returning the
 * same bytes with the same Content-Type and ETag; the goal is >= 85% of the bare handler's requests/s.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { median, send, startBareExpress, startStride, withCpu, type BenchModule } from './harness.js';
import { runLoad } from './load.js';

const PATIENT = { resourceType: 'Patient', id: 'bench-1', active: true, gender: 'female', birthDate: '1950-04-01', name: [{ family: 'Nguyen', given: ['Lan'] }], identifier: [{ system: 'urn:bench', value: '1' }] };
const CONCURRENCY = 16;

export const readBench: BenchModule = {
  name: 'read',
  async run(ctx) {
    const db = await ctx.freshDatabase();
    const stride = await startStride(ctx, db.env);
    const file = path.join(os.tmpdir(), `stride-bench-body-${process.pid}.json`);
    try {
      const put = await send(stride.port, 'PUT', '/fhir/Patient/bench-1', JSON.stringify(PATIENT));
      if (put.status !== 201) throw new Error(`PUT Patient/bench-1 answered ${put.status}: ${put.text}`);
      const read = await send(stride.port, 'GET', '/fhir/Patient/bench-1');
      fs.writeFileSync(file, read.text);
      const bare = await startBareExpress(file);
      try {
        const strideUrl = `http://127.0.0.1:${stride.port}/fhir/Patient/bench-1`;
        const bareUrl = `http://127.0.0.1:${bare.port}/fhir/Patient/bench-1`;
        const sameBytes = (await send(bare.port, 'GET', '/fhir/Patient/bench-1')).text === read.text;
        if (!sameBytes) throw new Error('the bare express handler does not return the bytes Stride returns');
        // Warm both (JIT, statement cache), then alternate equal rounds: other load on this machine drifts from
        // second to second, and a round of each side close together in time sees the same drift.
        const durationMs = ctx.quick ? 1500 : 3000;
        await runLoad({ url: bareUrl, concurrency: CONCURRENCY, durationMs: 1000 });
        await runLoad({ url: strideUrl, concurrency: CONCURRENCY, durationMs: 1000 });
        const rounds = ctx.quick ? 3 : 5;
        const ceilings: number[] = [];
        const strides: number[] = [];
        const ratios: number[] = [];
        // Server CPU per request: a second view of the same comparison that other load on the machine disturbs less.
        const cpuBare: number[] = [];
        const cpuStride: number[] = [];
        let errors = 0;
        for (let i = 0; i < rounds; i++) {
          const c = await withCpu(bare, () => runLoad({ url: bareUrl, concurrency: CONCURRENCY, durationMs }));
          const s = await withCpu(stride, () => runLoad({ url: strideUrl, concurrency: CONCURRENCY, durationMs }));
          ceilings.push(c.result.perSecond);
          strides.push(s.result.perSecond);
          ratios.push(s.result.perSecond / c.result.perSecond);
          cpuBare.push((c.cpuMs * 1000) / c.result.requests);
          cpuStride.push((s.cpuMs * 1000) / s.result.requests);
          errors += s.result.errors + c.result.errors;
          ctx.log(
            `read round ${i + 1}/${rounds}: bare ${c.result.perSecond.toFixed(0)}/s (${cpuBare[i].toFixed(0)} us CPU each), ` +
              `stride ${s.result.perSecond.toFixed(0)}/s (${cpuStride[i].toFixed(0)} us CPU each): ${((s.result.perSecond / c.result.perSecond) * 100).toFixed(0)}%`,
          );
        }
        return [
          {
            name: 'read by id',
            value: median(strides),
            unit: 'req/s',
            against: median(ceilings),
            againstLabel: 'bare express, same bytes',
            better: 'higher',
            ratio: median(ratios),
            goal: 0.85,
            note:
              `median of ${rounds} paired rounds, ${CONCURRENCY} connections, ${read.text.length} B body, errors ${errors}; ` +
              `server CPU per request: Stride ${median(cpuStride).toFixed(0)} us, bare ${median(cpuBare).toFixed(0)} us (${((median(cpuBare) / median(cpuStride)) * 100).toFixed(0)}%)`,
          },
        ];
      } finally {
        await bare.stop();
      }
    } finally {
      fs.rmSync(file, { force: true });
      await stride.stop();
      await db.drop();
    }
  },
};
