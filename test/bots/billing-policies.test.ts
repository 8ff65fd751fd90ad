/**
 * A clinic's own payer policies (STRIDE_POLICIES_DIR) reach the billing bot: the billing fields of a policy it adds
 * are read from `<dir>/billing/*.json` and decide the Claim's modifiers; a policy without billing fields stops
 * start-up with a message naming it and where its fields go (a session would otherwise never be billed).
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, Claim } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { postSession, sessionBundle } from './session.js';
import { loadConfig } from '../../src/config.js';
import { openStride } from '../../src/stride.js';

const OWN = 'test/bots/fixtures/policies-own-payer';
const UNBILLED = 'test/bots/fixtures/policies-own-payer-unbilled';
const PRIVATE = { system: 'urn:oid:2.16.840.1.113883.3.221.5', code: '5', display: 'PRIVATE HEALTH INSURANCE' };

const lineCodes = (claim: Claim) => (claim.item ?? []).map((i) => [i.productOrService.coding![0]!.code, (i.modifier ?? []).map((m) => m.coding![0]!.code).join(' ')]);

describeEachEngine('billing bot: payer policies from STRIDE_POLICIES_DIR', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, { STRIDE_POLICIES_DIR: OWN });
  });
  afterAll(async () => s?.close());

  const claimOf = async (encounter: string): Promise<Claim> => {
    const reply = await fhir<Bundle>(s.baseUrl, 'GET', `Claim?encounter=${encounter}`);
    expect(reply.body.entry).toHaveLength(1);
    return reply.body.entry![0]!.resource as Claim;
  };

  it("the clinic's policy bills by its own fields: no CQ for the assistant's service, XU for a distinct one", async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle((p) => (p.coverage.type.coding[0] = PRIVATE)));
    const claim = await claimOf(keys.encounter);
    expect(claim.status).toBe('active');
    expect(lineCodes(claim)).toEqual([
      ['97116', 'GP XU'],
      ['97110', 'GP'],
      ['97530', 'GP'],
    ]);
  });

  it('a Medicare coverage in the same server still gets the shipped Medicare fields (CQ, 59)', async () => {
    const { keys } = await postSession(s.baseUrl, sessionBundle());
    expect(lineCodes(await claimOf(keys.encounter))).toEqual([
      ['97116', 'GP 59'],
      ['97110', 'GP CQ'],
      ['97530', 'GP'],
    ]);
  });
});

describe('billing bot: a payer policy without billing fields', () => {
  it('stops start-up, before any database is opened, naming the policy and where its billing fields go', async () => {
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-unbilled-'));
    try {
      const attempt = openStride(loadConfig({ STRIDE_DATA_DIR: dataDir, STRIDE_POLICIES_DIR: UNBILLED }));
      await expect(attempt).rejects.toThrow(/Bot billing cannot start .*no billing fields for payer policy clinic-payer: add it to .*policies-own-payer-unbilled\/billing\/\*\.json/);
      expect(fs.readdirSync(dataDir)).toEqual([]);
    } finally {
      fs.rmSync(dataDir, { recursive: true, force: true });
    }
  });
});
