/**
 * `stride money rebuild`: rebuilds the money ledger (balances, aging) from the stored Claims, remittances and payments
 * (src/money/rebuild.ts), e.g. after upgrading a database whose claims were written before the ledger existed.
 */
import { loadConfig } from '../config.js';
import { openStride } from '../stride.js';
import { rebuildLedger } from '../money/rebuild.js';

export async function moneyRebuildCommand(): Promise<number> {
  const stride = await openStride(loadConfig());
  try {
    const started = performance.now();
    const tty = process.stderr.isTTY;
    const counts = await rebuildLedger(stride.repo, (p) => {
      if (tty) process.stderr.write(`\rposting ${p.type}: ${p.resources}   `);
    });
    if (tty) process.stderr.write('\n');
    const lines = [...counts].map(([type, n]) => `  ${type.padEnd(24)} ${String(n).padStart(9)} posted`);
    process.stdout.write(`${lines.join('\n')}\nMoney ledger rebuilt in ${((performance.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await stride.close();
  }
}
