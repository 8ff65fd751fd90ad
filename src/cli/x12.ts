/**
 * `stride x12 FILE...`: processes X12 files received from a clearinghouse or payer (999, 277CA, 277, 835), as POST
 * $process-x12 does (src/claims/acknowledge.ts, remit.ts), one transaction each: prints what each file did, and exits 1 when a
 * file was refused (not valid X12, not a kind Stride reads); the others are still processed.
 */
import fs from 'node:fs';
import { OperationOutcomeError } from '@medplum/core';
import { loadConfig } from '../config.js';
import { openStride } from '../stride.js';
import { processX12 } from '../claims/acknowledge.js';

export async function x12Command(files: string[]): Promise<number> {
  const stride = await openStride(loadConfig());
  let failed = 0;
  try {
    for (const file of files) {
      let text: string;
      try {
        text = fs.readFileSync(file, 'utf8');
      } catch (err) {
        process.stdout.write(`${file}: cannot be read: ${(err as Error).message}\n`);
        failed++;
        continue;
      }
      try {
        const result = await processX12(stride.repo, text, new Date());
        process.stdout.write(`${file}:\n${result.issues.map((i) => `  ${i.severity}: ${i.details?.text ?? ''}`).join('\n')}\n`);
      } catch (err) {
        if (!(err instanceof OperationOutcomeError)) throw err;
        process.stdout.write(`${file}: refused: ${err.outcome.issue?.[0]?.details?.text ?? err.message}\n`);
        failed++;
      }
    }
    return failed > 0 ? 1 : 0;
  } finally {
    await stride.close();
  }
}
