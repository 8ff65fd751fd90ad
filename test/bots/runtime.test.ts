/**
 * The bot runtime through HTTP (DESIGN §6): the bots listing, a bot that fails never loses the write, generated
 * resources carry a Provenance, bots triggering bots stop at the depth limit, $run-bots re-runs them, and a broken
 * bot or policy file stops start-up naming the file.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Bundle, HumanName, OperationOutcome, Parameters, ParametersParameter, Patient, Provenance } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { ROOT, runCli } from '../support/cli.js';
import { loadConfig } from '../../src/config.js';
import { openStride } from '../../src/stride.js';
import { parseStored, referenceKey } from '../../src/bots/context.js';

const FIXTURES = path.join(ROOT, 'test/bots/fixtures');
const WITH_TEST_BOTS = { STRIDE_BOTS_DIR: [path.join(ROOT, 'bots'), path.join(FIXTURES, 'bots')].join(path.delimiter) };
const OO = { prefer: 'return=OperationOutcome' };

const part = (p: ParametersParameter | undefined, name: string) => p?.part?.find((x) => x.name === name);
const parts = (p: ParametersParameter | undefined, name: string) => p?.part?.filter((x) => x.name === name) ?? [];
const texts = (o: OperationOutcome) => (o.issue ?? []).map((i) => i.details?.text ?? '');

describeEachEngine('bot runtime', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, WITH_TEST_BOTS);
  });
  afterAll(async () => s?.close());

  it('GET $bots lists every loaded bot with its triggers and rules, and the payer policies', async () => {
    const r = await fhir<Parameters>(s.baseUrl, 'GET', '$bots');
    expect(r.status).toBe(200);
    expect(r.body.resourceType).toBe('Parameters');
    const bots = (r.body.parameter ?? []).filter((p) => p.name === 'bot');
    expect(bots.map((b) => part(b, 'id')?.valueString).sort()).toEqual(['billing', 'chain', 'documentation-97116', 'echo', 'flaky', 'invalid', 'thrower']);
    // The billing bot runs after the documentation bot, whose findings it reads: the listing is in run order.
    const order = bots.map((b) => part(b, 'id')?.valueString);
    expect(order.indexOf('billing')).toBeGreaterThan(order.indexOf('documentation-97116'));
    const billing = bots.find((b) => part(b, 'id')?.valueString === 'billing');
    expect(parts(billing, 'rule').map((rule) => part(rule, 'id')?.valueCode)).toEqual(expect.arrayContaining(['billing-session-cap', 'scrub-billing-npi', 'scrub-open-documentation-findings']));
    const doc = bots.find((b) => part(b, 'id')?.valueString === 'documentation-97116');
    expect(parts(doc, 'resourceType').map((t) => t.valueCode)).toContain('Procedure');
    const procedureTrigger = parts(doc, 'trigger').find((t) => part(t, 'resourceType')?.valueCode === 'Procedure');
    expect(part(procedureTrigger, 'expression')?.valueString).toContain('http://www.ama-assn.org/go/cpt');
    const rules = parts(doc, 'rule');
    const ids = rules.map((rule) => part(rule, 'id')?.valueCode);
    // Every item of DOMAIN-97116 §C (1-14) has at least one rule.
    for (let n = 1; n <= 14; n++) expect(ids.some((id) => id?.startsWith(`c${n}-`))).toBe(true);
    for (const rule of rules) {
      expect(['error', 'warning']).toContain(part(rule, 'severity')?.valueCode);
      for (const field of ['title', 'element', 'fix', 'source']) expect(part(rule, field)?.valueString?.length).toBeGreaterThan(5);
      expect(part(rule, 'reference')?.valueUri).toMatch(/^https:\/\//);
      const kind = part(rule, 'kind')?.valueCode;
      expect(kind === 'computed' || (kind === 'fhirpath' && !!part(rule, 'expression')?.valueString)).toBe(true);
    }
    const notes = rules.find((rule) => part(rule, 'id')?.valueCode === 'c6-skilled-intervention');
    expect(part(notes, 'expression')?.valueString).toContain("startsWith('response:')");
    const policies = (r.body.parameter ?? []).filter((p) => p.name === 'policy').map((p) => part(p, 'id')?.valueCode);
    expect(policies.sort()).toEqual(['commercial-example', 'medicare']);
  });

  it('a bot that throws does not lose the write: it is stored, the response says so, an AuditEvent records it', async () => {
    const r = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Boom' }] }, OO);
    expect(r.status).toBe(201);
    const location = r.headers.get('location') as string;
    const key = location.split('/fhir/')[1].split('/_history')[0];
    expect((await fhir(s.baseUrl, 'GET', key)).status).toBe(200);
    const warning = (r.body.issue ?? []).find((i) => i.code === 'exception');
    expect(warning?.severity).toBe('warning');
    expect(warning?.details?.text).toContain('Bot thrower failed on this write (the thrower bot always fails)');
    expect(warning?.details?.text).toContain(`POST [base]/${key}/$run-bots`);
    const audits = await fhir<Bundle>(s.baseUrl, 'GET', `AuditEvent?entity=${key}`);
    const audit = audits.body.entry?.map((e) => e.resource as any).find((a) => a.outcome === '8');
    expect(audit?.outcomeDesc).toContain('the thrower bot always fails');
    expect(audit?.entity?.[0]?.what?.reference).toBe(`${key}/_history/1`);
  });

  it('a bot that throws inside a transaction: every entry commits, the entry carries the failure', async () => {
    const bundle = {
      resourceType: 'Bundle',
      type: 'transaction',
      entry: [
        { fullUrl: 'urn:uuid:a1', resource: { resourceType: 'Patient', name: [{ family: 'Boom' }] }, request: { method: 'POST', url: 'Patient' } },
        { fullUrl: 'urn:uuid:a2', resource: { resourceType: 'Observation', status: 'final', code: { text: 'x' }, subject: { reference: 'urn:uuid:a1' } }, request: { method: 'POST', url: 'Observation' } },
      ],
    };
    const r = await fhir<Bundle>(s.baseUrl, 'POST', '', bundle);
    expect(r.status).toBe(200);
    expect(r.body.entry?.map((e) => e.response?.status)).toEqual(['201 Created', '201 Created']);
    expect(texts(r.body.entry?.[0]?.response?.outcome as OperationOutcome).join(' ')).toContain('Bot thrower failed');
    for (const e of r.body.entry ?? []) expect((await fhir(s.baseUrl, 'GET', e.response?.location as string)).status).toBe(200);
  });

  it('a bot whose generated resource is invalid loses only its own action', async () => {
    const r = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Invalid' }] }, OO);
    expect(r.status).toBe(201);
    expect(texts(r.body).join(' ')).toMatch(/Bot invalid failed on this write \(.*status/);
    const key = (r.headers.get('location') as string).split('/fhir/')[1].split('/_history')[0];
    expect((await fhir(s.baseUrl, 'GET', key)).status).toBe(200);
  });

  it("generated resources go through the repository with a Provenance naming the bot and the source version; the bot's issues reach the response", async () => {
    const r = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Echo' }] }, OO);
    expect(r.status).toBe(201);
    const id = (r.headers.get('location') as string).split('/Patient/')[1].split('/')[0];
    expect(texts(r.body)).toContain(`echo saw Patient/${id}`);
    const basic = await fhir(s.baseUrl, 'GET', `Basic/echo-${id}`);
    expect(basic.status).toBe(200);
    expect(basic.body.meta.versionId).toBe('1');
    const provenance = await fhir<Bundle>(s.baseUrl, 'GET', `Provenance?target=Basic/echo-${id}`);
    const p = provenance.body.entry?.[0]?.resource as Provenance;
    expect(p.target[0].reference).toBe(`Basic/echo-${id}/_history/1`);
    expect(p.agent[0].who?.identifier).toEqual({ system: 'http://stride-fhir.org/fhir/sid/bot', value: 'echo' });
    expect(p.entity?.map((e) => e.what.reference)).toEqual([`Patient/${id}/_history/1`]);
    // A second write of the patient: the bot runs again and the Basic gets version 2 with its own Provenance.
    await fhir(s.baseUrl, 'PUT', `Patient/${id}`, { resourceType: 'Patient', id, name: [{ family: 'Echo', given: ['Again'] }] });
    const again = await fhir<Bundle>(s.baseUrl, 'GET', `Provenance?target=Basic/echo-${id}`);
    const entities = again.body.entry?.map((e) => (e.resource as Provenance).entity?.[0]?.what.reference).sort();
    expect(entities).toEqual([`Patient/${id}/_history/1`, `Patient/${id}/_history/2`]);
  });

  it('bots triggering bots stop at the depth limit, and the write commits with a warning', async () => {
    const id = `chain-${Date.now()}-0`;
    const r = await fhir<OperationOutcome>(s.baseUrl, 'PUT', `Basic/${id}`, { resourceType: 'Basic', id, code: { text: 'chain' } }, OO);
    expect(r.status).toBe(201);
    expect(texts(r.body).join(' ')).toContain('Bots stopped after 3 rounds');
    const base = id.slice(0, -2);
    for (const n of [1, 2, 3]) expect((await fhir(s.baseUrl, 'GET', `Basic/${base}-${n}`)).status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', `Basic/${base}-4`)).status).toBe(404);
  });

  it('POST [type]/[id]/$run-bots re-runs the bots: a bot that failed on the write succeeds when run again', async () => {
    const r = await fhir<OperationOutcome>(s.baseUrl, 'POST', 'Patient', { resourceType: 'Patient', name: [{ family: 'Flaky' }] }, OO);
    expect(texts(r.body).join(' ')).toContain('Bot flaky failed');
    const id = (r.headers.get('location') as string).split('/Patient/')[1].split('/')[0];
    expect((await fhir(s.baseUrl, 'GET', `Basic/flaky-${id}`)).status).toBe(404);
    const rerun = await fhir<OperationOutcome>(s.baseUrl, 'POST', `Patient/${id}/$run-bots`);
    expect(rerun.status).toBe(200);
    expect(rerun.body.resourceType).toBe('OperationOutcome');
    expect(texts(rerun.body)).toEqual([`Ran flaky for Patient/${id}: nothing to report`]);
    expect((await fhir(s.baseUrl, 'GET', `Basic/flaky-${id}`)).status).toBe(200);
  });

  it('$run-bots on a resource no bot is triggered by says that nothing ran', async () => {
    const org = await fhir(s.baseUrl, 'POST', 'Organization', { resourceType: 'Organization', name: 'Nobody watches this' });
    const key = (org.headers.get('location') as string).split('/fhir/')[1].split('/_history')[0];
    const r = await fhir<OperationOutcome>(s.baseUrl, 'POST', `${key}/$run-bots`);
    expect(r.status).toBe(200);
    expect(texts(r.body)).toEqual([`No bot's trigger matches ${key}: nothing ran`]);
  });

  it('$run-bots: 404 for a resource that does not exist, 405 for GET', async () => {
    expect((await fhir(s.baseUrl, 'POST', 'Patient/no-such-patient/$run-bots')).status).toBe(404);
    expect((await fhir(s.baseUrl, 'GET', 'Patient/no-such-patient/$run-bots')).status).toBe(405);
  });
});

describe('bot start-up', () => {
  const dataDir = () => fs.mkdtempSync(path.join(os.tmpdir(), 'stride-bots-'));

  it('a bot whose trigger does not compile stops start-up, naming its file', async () => {
    const file = path.join(FIXTURES, 'broken-trigger/bad-trigger/index.ts');
    await expect(openStride(loadConfig({ STRIDE_DATA_DIR: dataDir(), STRIDE_BOTS_DIR: path.join(FIXTURES, 'broken-trigger') }))).rejects.toThrow(file);
  });

  it('a folder that exports no bot stops start-up, naming its file', async () => {
    const file = path.join(FIXTURES, 'no-export/no-export/index.ts');
    await expect(openStride(loadConfig({ STRIDE_DATA_DIR: dataDir(), STRIDE_BOTS_DIR: path.join(FIXTURES, 'no-export') }))).rejects.toThrow(`Bot ${file} does not default-export defineBot`);
  });

  it('the same bot twice stops start-up, naming both files', async () => {
    const dirs = [path.join(ROOT, 'bots'), path.join(ROOT, 'bots')].join(path.delimiter);
    await expect(openStride(loadConfig({ STRIDE_DATA_DIR: dataDir(), STRIDE_BOTS_DIR: dirs }))).rejects.toThrow(/the id "billing" is already used by .*billing\/index\.ts/);
  });

  it('a payer policy that does not match the schema stops start-up, naming the file and the field', async () => {
    const file = path.join(FIXTURES, 'policies-bad/medicare.json');
    const attempt = openStride(loadConfig({ STRIDE_DATA_DIR: dataDir(), STRIDE_POLICIES_DIR: path.join(FIXTURES, 'policies-bad') }));
    await expect(attempt).rejects.toThrow(`Payer policy ${file} is invalid: /documentation/progressReport/everyTreatmentDays must be integer`);
  });

  it('`stride serve` with a broken bot exits 1 and prints the file', async () => {
    const result = await runCli(['serve'], { STRIDE_DATA_DIR: dataDir(), STRIDE_PORT: '0', STRIDE_BOTS_DIR: path.join(FIXTURES, 'broken-trigger') });
    expect(result.code).toBe(1);
    expect(result.stderr).toContain(path.join(FIXTURES, 'broken-trigger/bad-trigger/index.ts'));
    expect(result.stderr).toContain('does not compile');
  });
});

describe('stored versions shared between writes', () => {
  it('a version is parsed once and frozen, so no bot can change what the next write reads', () => {
    const json = JSON.stringify({ resourceType: 'Patient', id: 'shared-1', name: [{ family: 'Lindqvist' }] });
    const first = parseStored('Patient', 'shared-1', 1, json) as Patient;
    expect(parseStored('Patient', 'shared-1', 1, json)).toBe(first);
    expect(() => {
      (first.name as HumanName[])[0].family = 'Changed';
    }).toThrow(TypeError);
    expect(() => (first.name as HumanName[]).push({ family: 'More' })).toThrow(TypeError);
    expect(parseStored('Patient', 'shared-1', 1, json)).toMatchObject({ name: [{ family: 'Lindqvist' }] });
  });

  it("a reference's key is Type/id for a local reference, with or without a version, and nothing for any other", () => {
    // Asked many times over (each text is matched once, then remembered): the answers never change.
    for (let round = 0; round < 3; round++) {
      expect(referenceKey('Patient/p-1')).toBe('Patient/p-1');
      expect(referenceKey({ reference: 'Encounter/e.2/_history/7' })).toBe('Encounter/e.2');
      expect(referenceKey('http://example.org/fhir/Patient/p-1')).toBeUndefined();
      expect(referenceKey('#contained-1')).toBeUndefined();
      expect(referenceKey('Patient/')).toBeUndefined();
      expect(referenceKey({ display: 'no reference' })).toBeUndefined();
      expect(referenceKey(undefined)).toBeUndefined();
    }
  });

  it('the same version number with other text (a rolled-back write redone) is parsed anew', () => {
    const before = parseStored('Patient', 'shared-2', 2, JSON.stringify({ resourceType: 'Patient', id: 'shared-2', active: true }));
    const after = parseStored('Patient', 'shared-2', 2, JSON.stringify({ resourceType: 'Patient', id: 'shared-2', active: false }));
    expect(before).toMatchObject({ active: true });
    expect(after).toMatchObject({ active: false });
  });
});
