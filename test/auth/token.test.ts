/**
 * SMART Backend Services over HTTP (issue 23): the token flow end to end, and each refusal of a client assertion
 * (SMART App Launch 2.x backend-services.html), with real keys and real signed JWTs made here.
 */
import http from 'node:http';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { exportSPKI, importJWK, SignJWT, UnsecuredJWT, type CryptoKey } from 'jose';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { fhir } from '../support/http.js';
import { AUTH_ON, bearer, makeKey, registerClient, requestToken, signAssertion, tokenUrl } from '../support/auth.js';
import { disableClient } from '../../src/auth/clients.js';

describeEachEngine('SMART backend services token endpoint', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
    await fhir(s.baseUrl, 'GET', 'metadata');
  });
  afterAll(async () => s?.close());

  it('serves .well-known/smart-configuration and a public CapabilityStatement that says SMART is in force', async () => {
    const res = await fetch(`${s.baseUrl}/.well-known/smart-configuration`);
    expect(res.status).toBe(200);
    const config = await res.json();
    expect(config.token_endpoint).toBe(tokenUrl(s));
    expect(config.token_endpoint_auth_methods_supported).toEqual(['private_key_jwt']);
    expect(config.token_endpoint_auth_signing_alg_values_supported).toEqual(['RS384', 'ES384']);
    expect(config.grant_types_supported).toEqual(['client_credentials']);
    const metadata = await fhir(s.baseUrl, 'GET', 'metadata');
    expect(metadata.status).toBe(200);
    expect(metadata.body.rest[0].security.service[0].coding[0].code).toBe('SMART-on-FHIR');
    expect(metadata.body.rest[0].security.extension[0].extension[0].valueUri).toBe(tokenUrl(s));
  });

  it('gives an access token for a signed assertion (RS384 and ES384), which opens the FHIR API', async () => {
    for (const alg of ['RS384', 'ES384'] as const) {
      const client = await registerClient(s, 'system/Patient.rs', { key: await makeKey(alg) });
      const reply = await requestToken(s, await signAssertion(s, client), 'system/Patient.rs');
      expect(reply.status).toBe(200);
      expect(reply.body).toMatchObject({ token_type: 'bearer', expires_in: 300, scope: 'system/Patient.rs' });
      const search = await fhir(s.baseUrl, 'GET', 'Patient', undefined, bearer(reply.body.access_token));
      expect(search.status).toBe(200);
    }
  });

  it('grants only the scopes registered, and refuses when none is', async () => {
    const client = await registerClient(s, 'system/Patient.rs system/Observation.r');
    const some = await requestToken(s, await signAssertion(s, client), 'system/Patient.rs system/Claim.u system/Observation.rs');
    expect(some.status).toBe(200);
    expect(some.body.scope).toBe('system/Patient.rs');
    const none = await requestToken(s, await signAssertion(s, client), 'system/Claim.cruds');
    expect(none.status).toBe(400);
    expect(none.body.error).toBe('invalid_scope');
  });

  it('answers 401 with WWW-Authenticate and nothing else without a token or with a bad one', async () => {
    for (const headers of [{}, bearer('not-a-token'), { authorization: 'Basic dXNlcjpwYXNz' }]) {
      const r = await fhir(s.baseUrl, 'GET', 'Patient/anything', undefined, headers);
      expect(r.status).toBe(401);
      expect(r.headers.get('www-authenticate')).toMatch(/^Bearer realm="stride"/);
      expect(r.body.resourceType).toBe('OperationOutcome');
      expect(r.text).not.toContain('anything');
    }
    // A token Stride did not sign (another secret) is as good as none.
    const forged = await new SignJWT({ client_id: 'x', scope: 'system/*.cruds' }).setProtectedHeader({ alg: 'HS256' }).setIssuer('stride').setExpirationTime('5m').sign(new Uint8Array(32));
    expect((await fhir(s.baseUrl, 'GET', 'Patient', undefined, bearer(forged))).status).toBe(401);
  });

  const refusals: Array<[string, (client: Awaited<ReturnType<typeof registerClient>>) => Promise<string>]> = [
    ['an expired assertion', (c) => signAssertion(s, c, { expiresIn: -120 })],
    ['an assertion that expires more than five minutes ahead', (c) => signAssertion(s, c, { expiresIn: 3600 })],
    ['a wrong aud', (c) => signAssertion(s, c, { aud: `${s.baseUrl}/token` })],
    ['alg none', async (c) => new UnsecuredJWT({}).setIssuer(c.id).setSubject(c.id).setAudience(tokenUrl(s)).setExpirationTime('2m').setJti(randomUUID()).encode()],
    ['an unknown key', async (c) => signAssertion(s, { ...c, key: await makeKey('ES384') })],
    ['a key of the right kid that signs wrongly', async (c) => signAssertion(s, { ...c, key: { ...(await makeKey('ES384')), kid: c.key.kid } })],
    [
      'HS256 with the public key as the secret',
      async (c) => {
        // The classic confusion attack: the client's registered public key (PEM), used as an HMAC secret.
        const pem = await exportSPKI((await importJWK(c.key.publicJwk, 'RS384')) as CryptoKey);
        return new SignJWT({}).setProtectedHeader({ alg: 'HS256', kid: c.key.kid }).setIssuer(c.id).setSubject(c.id).setAudience(tokenUrl(s)).setExpirationTime('2m').setJti(randomUUID()).sign(new TextEncoder().encode(pem));
      },
    ],
    ['a client id that is not registered', (c) => signAssertion(s, c, { iss: randomUUID() })],
  ];
  for (const [what, make] of refusals) {
    it(`refuses ${what} with invalid_client and no token`, async () => {
      const key = what.startsWith('HS256') ? await makeKey('RS384') : await makeKey('ES384');
      const client = await registerClient(s, 'system/*.rs', { key });
      const reply = await requestToken(s, await make(client), 'system/*.rs');
      expect(reply.status).toBe(401);
      expect(reply.body.error).toBe('invalid_client');
      expect(reply.body.access_token).toBeUndefined();
    });
  }

  it('never accepts the same jti twice', async () => {
    const client = await registerClient(s, 'system/*.rs');
    const assertion = await signAssertion(s, client);
    expect((await requestToken(s, assertion, 'system/*.rs')).status).toBe(200);
    const again = await requestToken(s, assertion, 'system/*.rs');
    expect(again.status).toBe(401);
    expect(again.body.error_description).toMatch(/jti/);
  });

  it('refuses a disabled client, and stops its tokens', async () => {
    const client = await registerClient(s, 'system/*.rs');
    const token = (await requestToken(s, await signAssertion(s, client), 'system/*.rs')).body.access_token;
    await disableClient(s.stride.store, client.id);
    const reply = await requestToken(s, await signAssertion(s, client), 'system/*.rs');
    expect(reply.status).toBe(401);
    expect(reply.body.error).toBe('invalid_client');
    // Tokens already issued stop within a few seconds (each process re-reads a client's state every 5 s): a new
    // process (no cache) refuses at once.
    const other = await startTestServer(engine, { ...AUTH_ON, ...s.env });
    try {
      expect((await fhir(other.baseUrl, 'GET', 'Patient', undefined, bearer(token))).status).toBe(401);
    } finally {
      await other.close();
    }
  });

  it('takes a JWKS by URL, fetched from the client', async () => {
    const key = await makeKey('RS384');
    const server = http.createServer((_req, res) => res.end(JSON.stringify({ keys: [key.publicJwk] })));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    try {
      const port = (server.address() as { port: number }).port;
      const client = await registerClient(s, 'system/*.rs', { key, jwksUrl: `http://127.0.0.1:${port}/jwks.json` });
      const reply = await requestToken(s, await signAssertion(s, client), 'system/Patient.rs');
      expect(reply.status).toBe(200);
      expect(reply.body.scope).toBe('system/Patient.rs');
    } finally {
      server.close();
    }
  });

  it('refuses a malformed token request with an OAuth error', async () => {
    const res = await fetch(tokenUrl(s), { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: 'grant_type=password' });
    expect(res.status).toBe(400);
    expect((await res.json()).error).toBe('unsupported_grant_type');
    const json = await fetch(tokenUrl(s), { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
    expect(json.status).toBe(400);
  });
});
