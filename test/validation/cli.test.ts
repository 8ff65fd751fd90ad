/** `stride validate FILE... [--profile URL]`: offline, prints each issue with its location, exits 1 on errors. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli, ROOT } from '../support/cli.js';

const EXAMPLES = path.join(ROOT, 'profiles/examples');
const NO_DB = { STRIDE_DATA_DIR: path.join(os.tmpdir(), 'stride-validate-never-created') };

describe('stride validate', () => {
  it('exits 0 and says ok for valid files (a whole session bundle)', async () => {
    const r = await runCli(['validate', path.join(EXAMPLES, 'session-complete.json'), path.join(EXAMPLES, 'claim-session-complete.json')], NO_DB);
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(r.stdout).toContain('2 files, 2 resources: 0 errors');
    expect(fs.existsSync(NO_DB.STRIDE_DATA_DIR)).toBe(false);
  });

  it('prints each error with its location and message, and exits 1', async () => {
    const r = await runCli(['validate', path.join(EXAMPLES, 'invalid-procedure-untimed-code.json'), path.join(EXAMPLES, 'invalid-progress-report-no-author.json')], NO_DB);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/error\s+Procedure\.code\s+.*97161 is not in the required value set/);
    expect(r.stdout).toMatch(/error\s+DocumentReference\.author\s+StrideProgressReport requires at least 1 author/);
    expect(r.stdout).toContain('2 files, 2 resources: 2 errors');
  });

  it('--profile checks a profile the resource does not claim; an unknown one is an error naming it', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-validate-'));
    const file = path.join(dir, 'claim.json');
    const claim = JSON.parse(fs.readFileSync(path.join(EXAMPLES, 'claim-session-complete.json'), 'utf8'));
    fs.writeFileSync(file, JSON.stringify({ ...claim, meta: undefined, careTeam: undefined }));
    const plain = await runCli(['validate', file], NO_DB);
    expect(plain.code, plain.stdout).toBe(0);
    const profiled = await runCli(['validate', '--profile', 'http://stride-fhir.org/fhir/StructureDefinition/stride-therapy-claim', file], NO_DB);
    expect(profiled.code).toBe(1);
    expect(profiled.stdout).toContain('Claim.careTeam');
    const unknown = await runCli(['validate', '--profile', 'http://stride-fhir.org/fhir/StructureDefinition/nope', file], NO_DB);
    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toContain('"http://stride-fhir.org/fhir/StructureDefinition/nope" is not known');
    fs.rmSync(dir, { recursive: true });
  });

  it('reads NDJSON line by line and reports unreadable input as an error', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'stride-validate-'));
    const nd = path.join(dir, 'p.ndjson');
    fs.writeFileSync(nd, `${JSON.stringify({ resourceType: 'Patient', gender: 'female' })}\n${JSON.stringify({ resourceType: 'Patient', gender: 'f' })}\n`);
    const bad = path.join(dir, 'broken.json');
    fs.writeFileSync(bad, '{"resourceType": ');
    const r = await runCli(['validate', nd, bad], NO_DB);
    expect(r.code).toBe(1);
    expect(r.stdout).toMatch(/line 2: error\s+Patient\.gender/);
    expect(r.stdout).not.toContain('line 1:');
    expect(r.stdout).toMatch(/broken\.json\n\s+error\s+not valid JSON/);
    fs.rmSync(dir, { recursive: true });
  });
});
