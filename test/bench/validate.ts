/**
 * Validation figures (issue 5, Show; DESIGN §8): validations/s of Stride's layered validator for a small and a large
 * resource beside @medplum/core's validateResource alone (the structure layer it builds on), in the same run, and
 * the time of one small validation against the 0.3 ms $validate budget. In-process: no server, no database.
 */
import fs from 'node:fs';
import path from 'node:path';
import { validateResource } from '@medplum/core';
import type { Bundle, Resource } from '@medplum/fhirtypes';
import type { BenchContext, BenchModule, Figure } from './harness.js';
import { createValidator } from '../../src/validation/validator.js';
import { defaultProfilesDir } from '../../src/validation/profiles.js';

/** The repository root, whether this runs from test/ (tsx) or dist/test/ (npm run bench). */
const ROOT = path.dirname(defaultProfilesDir());
const SYNTHEA = path.resolve(ROOT, '../shared/conformance/synthea-r4');
const SMALL: Resource = { resourceType: 'Patient', id: 'bench-1', active: true, gender: 'female', birthDate: '1950-04-01', name: [{ family: 'Nguyen', given: ['Lan'] }], identifier: [{ system: 'urn:bench', value: '1' }] };

/** The largest resource of the first Synthea bundle (an ExplanationOfBenefit, ~10 KB), or the guide's claim. */
function largeResource(): { resource: Resource; label: string } {
  const files = fs.existsSync(SYNTHEA) ? fs.readdirSync(SYNTHEA).filter((f) => f.endsWith('.json')).sort() : [];
  if (files.length) {
    const bundle = JSON.parse(fs.readFileSync(path.join(SYNTHEA, files[0]), 'utf8')) as Bundle;
    const biggest = (bundle.entry ?? []).map((e) => e.resource as Resource).sort((a, b) => JSON.stringify(b).length - JSON.stringify(a).length)[0];
    return { resource: biggest, label: `Synthea ${biggest.resourceType}, ${Math.round(JSON.stringify(biggest).length / 1024)} KB` };
  }
  const claim = JSON.parse(fs.readFileSync(path.join(ROOT, 'profiles/examples/claim-session-complete.json'), 'utf8')) as Resource;
  return { resource: claim, label: 'guide Claim' };
}

/**
 * Runs `fn` for about `ms` milliseconds (after a warm-up) and returns calls per second of this process's CPU time:
 * on a shared 2-core machine, wall time also counts other processes' work.
 */
function perSecond(fn: () => void, ms: number): number {
  for (let i = 0; i < 200; i++) fn();
  let n = 0;
  const start = process.hrtime.bigint();
  const cpu = process.cpuUsage();
  const limit = BigInt(ms) * 1_000_000n;
  while (process.hrtime.bigint() - start < limit) {
    for (let i = 0; i < 20; i++) fn();
    n += 20;
  }
  const used = process.cpuUsage(cpu);
  return n / ((used.user + used.system) / 1e6);
}

function medplumOnly(resource: Resource): void {
  try {
    validateResource(resource);
  } catch {
    // An invalid resource throws; the time is what is measured.
  }
}

export const validateBench: BenchModule = {
  name: 'validate',
  async run(ctx: BenchContext): Promise<Figure[]> {
    const validator = createValidator();
    const ms = ctx.quick ? 1000 : 3000;
    const large = largeResource();
    const figures: Figure[] = [];
    for (const [label, resource] of [['small Patient', SMALL], [large.label, large.resource]] as const) {
      // Alternate rounds so machine drift hits both alike; keep the best of each.
      const stride: number[] = [];
      const base: number[] = [];
      for (let round = 0; round < 4; round++) {
        const measureBase = (): number => base.push(perSecond(() => medplumOnly(resource), ms / 4));
        const measureStride = (): number => stride.push(perSecond(() => validator.validate(resource), ms / 4));
        if (round % 2 === 0) (measureBase(), measureStride());
        else (measureStride(), measureBase());
      }
      const value = Math.max(...stride);
      const against = Math.max(...base);
      figures.push({ name: `validate (${label})`, value, unit: 'validations/s', against, againstLabel: '@medplum/core validateResource alone', better: 'higher', note: `${((value / against) * 100).toFixed(0)}% of the structure layer alone` });
      if (resource === SMALL) {
        figures.push({ name: 'validate a small resource', value: 1000 / value, unit: 'ms', against: 0.3, againstLabel: 'DESIGN target', better: 'lower' });
      }
    }
    return figures;
  },
};
