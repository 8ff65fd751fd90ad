import { loadConfig } from '/work/main/dist/src/config.js';
import { openStore } from '/work/main/dist/src/storage/open.js';
import { accessColumns } from '/work/main/dist/src/auth/audit-event.js';
import { insertAuditRows } from '/work/main/dist/src/auth/audit-store.js';
import { newId } from '/work/main/dist/src/repo/meta.js';
const batch = Number(process.argv[2] ?? 500);
const env = { ...process.env, STRIDE_DATA_DIR: '/tmp/m6-' + process.pid };
if (process.argv[3]) env.STRIDE_DATABASE_URL = process.argv[3];
const store = await openStore(loadConfig(env));
await store.migrate();
const N = 20000;
for (let round = 0; round < 3; round++) {
  const t = process.hrtime.bigint();
  for (let i = 0; i < N; i += batch) {
    const rows = [];
    for (let k = 0; k < batch; k++) rows.push({ id: newId(), lastUpdated: Date.now(), columns: accessColumns({ time: Date.now(), method: 'GET', path: 'Patient/bench-' + (k % 50), query: '', status: 200, clientId: 'abc-def-0123456789', address: '127.0.0.1', requestId: 'r' }) });
    const stmt = insertAuditRows(store.dialect, rows);
    if (store.writeAside && !process.env.MAIN) await store.writeAside([stmt]); else await store.transaction(async (tx) => void (await tx.run(stmt)));
  }
  console.log('batch', batch, 'us/access (wall)', (Number(process.hrtime.bigint() - t) / 1000 / N).toFixed(1));
}
await store.close();
