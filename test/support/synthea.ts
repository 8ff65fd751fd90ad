/** The Synthea transaction Bundles of ../shared/conformance (third-party data every FHIR server must load). */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Bundle } from '@medplum/fhirtypes';

/** ../shared/conformance beside the repository, or STRIDE_TEST_CONFORMANCE_DIR (a git worktree has no ../shared). */
const CONFORMANCE_DIR = process.env.STRIDE_TEST_CONFORMANCE_DIR ?? path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../shared/conformance');
export const SYNTHEA_DIR = path.join(CONFORMANCE_DIR, 'synthea-r4');

/** Why the Synthea tests cannot run here, or undefined when the data is present. */
export function syntheaMissing(): string | undefined {
  return fs.existsSync(SYNTHEA_DIR) ? undefined : `Synthea data absent (${SYNTHEA_DIR}): the Synthea load tests are skipped`;
}

export function syntheaFiles(): string[] {
  return fs.readdirSync(SYNTHEA_DIR).filter((f) => f.endsWith('.json')).sort().map((f) => path.join(SYNTHEA_DIR, f));
}

/** Resources per type, counted by scanning the files themselves. */
export function expectedCounts(files: string[]): Record<string, number> {
  const counts: Record<string, number> = {};
  for (const file of files) {
    const bundle = JSON.parse(fs.readFileSync(file, 'utf8')) as Bundle;
    for (const e of bundle.entry ?? []) counts[e.resource!.resourceType] = (counts[e.resource!.resourceType] ?? 0) + 1;
  }
  return counts;
}
