/** `stride clients add|list|disable` (issue 23 point 2): clients in the database, as every process sees them. */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { runCli } from '../support/cli.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, makeKey, requestToken, signAssertion, type TestKey } from '../support/auth.js';

describeEachEngine('stride clients', (engine) => {
  let s: TestServer;
  let key: TestKey;
  let jwksFile: string;
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    key = await makeKey('RS384');
    jwksFile = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'stride-jwks-')), 'jwks.json');
    fs.writeFileSync(jwksFile, JSON.stringify({ keys: [key.publicJwk] }));
  });
  afterAll(async () => s?.close());

  it('adds a client (printing its id), lists it, and the server gives it tokens; disable stops that', async () => {
    const added = await runCli(['clients', 'add', '--name', 'billing system', '--jwks', jwksFile, '--scope', 'system/Claim.rs system/Patient.r'], s.env);
    expect(added.code, added.stderr).toBe(0);
    const id = added.stdout.trim();
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    const listed = await runCli(['clients', 'list'], s.env);
    expect(listed.stdout).toContain(id);
    expect(listed.stdout).toContain('billing system');
    const reply = await requestToken(s, await signAssertion(s, { id, key }), 'system/Claim.rs');
    expect(reply.status).toBe(200);
    expect((await fhir(s.baseUrl, 'GET', 'Claim', undefined, bearer(reply.body.access_token))).status).toBe(200);
    const disabled = await runCli(['clients', 'disable', id], s.env);
    expect(disabled.code).toBe(0);
    expect((await requestToken(s, await signAssertion(s, { id, key }), 'system/Claim.rs')).body.error).toBe('invalid_client');
    expect((await runCli(['clients', 'list', '--json'], s.env)).stdout).toContain('"disabled":true');
  });

  it('prints JSON with --json, and takes a patient', async () => {
    const added = await runCli(['clients', 'add', '--name', 'portal', '--jwks', jwksFile, '--scope', 'patient/*.rs', '--patient', 'Patient/123', '--json'], s.env);
    expect(added.code, added.stderr).toBe(0);
    expect(JSON.parse(added.stdout)).toMatchObject({ name: 'portal', scope: 'patient/*.rs', patient: 'Patient/123', disabled: false });
  });

  it('refuses a bad registration and says why', async () => {
    const cases: Array<[string[], RegExp]> = [
      [['--scope', 'patient/*.rs'], /--patient/],
      [['--scope', 'system/*.rs', '--patient', 'Patient/1'], /patient\/ scopes only/],
      [['--scope', 'openid'], /not one Stride grants/],
    ];
    for (const [args, message] of cases) {
      const r = await runCli(['clients', 'add', '--name', 'x', '--jwks', jwksFile, ...args], s.env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(message);
    }
    const priv = path.join(path.dirname(jwksFile), 'private.json');
    fs.writeFileSync(priv, JSON.stringify({ keys: [{ ...key.publicJwk, d: 'secret' }] }));
    expect((await runCli(['clients', 'add', '--name', 'x', '--jwks', priv, '--scope', 'system/*.rs'], s.env)).stderr).toMatch(/private key/);
    expect((await runCli(['clients', 'disable', 'nobody'], s.env)).code).toBe(1);
  });
});
