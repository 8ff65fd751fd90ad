/**
 * `stride money rebuild` (src/money/rebuild.ts): a database whose ledger is empty, as one upgraded from before the
 * ledger existed, gets back every balance and the whole aging table from its stored claims, remittances and patient
 * payments, exactly as the writes had made them; running it again changes nothing.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Invoice, Parameters } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { runCli } from '../support/cli.js';
import { sql } from '../../src/sql/sql.js';
import { loadSentClaims } from '../claims/load-claims.js';
import { simulatePayer } from '../claims/payer.js';

describeEachEngine('stride money rebuild', (engine) => {
  let s: TestServer;
  let patients: string[];
  beforeAll(async () => {
    s = await startTestServer(engine);
    const client = {
      transaction: async (entry: unknown[]) => (await fhir(s.baseUrl, 'POST', '', { resourceType: 'Bundle', type: 'transaction', entry })).body.entry,
      get: async (p: string) => (await fhir(s.baseUrl, 'GET', p)).body,
    };
    const loaded = await loadSentClaims(client, { claims: 240, patients: 40, date: (k) => `2026-${String(8 + (k % 4)).padStart(2, '0')}-${String(1 + (k % 27)).padStart(2, '0')}` });
    patients = loaded.patients;
    const { x12 } = simulatePayer([{ interchange: '1', group: '1', transactions: ['1'], receiverId: '', usage: 'T', claims: loaded.sent }], { seed: 77, trace: 'REBUILD-1' });
    const posted = await fetch(`${s.baseUrl}/$process-x12`, { method: 'POST', headers: { 'Content-Type': 'application/edi-x12' }, body: x12 });
    expect(posted.status).toBe(200);
    // Some patients are invoiced and pay part of it.
    for (const patient of patients.slice(0, 8)) {
      const invoice = await fhir<Invoice>(s.baseUrl, 'POST', `${patient}/$invoice`, { resourceType: 'Parameters', parameter: [{ name: 'end', valueDate: '2026-12-01' }] });
      if (invoice.status !== 201) continue;
      const half = Math.floor(Math.round(invoice.body.totalNet!.value! * 100) / 2);
      if (half > 0) expect((await fhir(s.baseUrl, 'POST', `Invoice/${invoice.body.id}/$pay`, { resourceType: 'Parameters', parameter: [{ name: 'amount', valueString: (half / 100).toFixed(2) }] })).status).toBe(201);
    }
  }, 300_000);
  afterAll(async () => s?.close());

  const snapshot = async () => ({
    aging: (await fhir<Parameters>(s.baseUrl, 'GET', 'Claim/$aging?by=patient&as-of=2026-12-15')).body.parameter,
    balances: await Promise.all(patients.map(async (p) => (await fhir<Parameters>(s.baseUrl, 'GET', `${p}/$balance`)).body.parameter)),
  });

  it('an emptied ledger is rebuilt to the same balances and aging table, and a second rebuild changes nothing', async () => {
    const before = await snapshot();
    const owed = before.aging?.find((p) => p.name === 'total')?.part?.find((p) => p.name === 'total')?.valueMoney?.value ?? 0;
    expect(owed).toBeGreaterThan(0);
    expect(before.balances.some((b) => (b?.find((x) => x.name === 'patient-paid')?.valueMoney?.value ?? 0) > 0)).toBe(true);
    await s.stride.repo.transaction(async (tx) => {
      await tx.db.run(sql`DELETE FROM money_posting`);
      await tx.db.run(sql`DELETE FROM money_claim`);
    });
    const emptied = await snapshot();
    expect(emptied.aging?.filter((p) => p.name === 'group')).toEqual([]);
    const run = await runCli(['money', 'rebuild'], s.env);
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/Claim\s+241 posted/);
    expect(run.stdout).toMatch(/ClaimResponse\s+240 posted/);
    expect(await snapshot()).toEqual(before);
    expect((await runCli(['money', 'rebuild'], s.env)).code).toBe(0);
    expect(await snapshot()).toEqual(before);
    const wrong = await runCli(['money', 'rebuilt'], s.env);
    expect(wrong.code).toBe(2);
    expect(wrong.stderr).toMatch(/unknown action "rebuilt"/);
  }, 300_000);
});
