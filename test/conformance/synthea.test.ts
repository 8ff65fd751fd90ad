/**
 * Every Synthea bundle of ../shared/conformance loads through POST /fhir, whole, and the stored counts per type
 * equal the counts in the files (issue 2, Show).
 */
import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { expectedCounts, syntheaFiles, syntheaMissing } from '../support/synthea.js';
import { storedCounts } from '../support/counts.js';

const missing = syntheaMissing();
if (missing) {
  console.warn(missing);
  describe.skip(missing, () => it('needs ../shared/conformance/synthea-r4', () => undefined));
} else {
  describeEachEngine('Synthea transaction bundles via POST /fhir', (engine) => {
    let s: TestServer;
    beforeAll(async () => {
      s = await startTestServer(engine);
    });
    afterAll(async () => s?.close());

    it('loads all 72 bundles whole, and the counts per type match the files', async () => {
      const files = syntheaFiles();
      expect(files.length).toBe(72);
      for (const file of files) {
        const body = fs.readFileSync(file, 'utf8');
        const res = await fetch(s.baseUrl, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body });
        const reply = await res.json();
        expect(res.status, `${file}: ${JSON.stringify(reply).slice(0, 300)}`).toBe(200);
        expect(reply.entry.every((e: any) => e.response.status === '201 Created')).toBe(true);
      }
      expect(await storedCounts(s.stride.store)).toEqual(expectedCounts(files));
    }, 300_000);
  });
}
