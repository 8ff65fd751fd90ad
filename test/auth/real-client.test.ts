/**
 * A real FHIR client against Stride (issue 23): fhir-kit-client finds the token endpoint (smartAuthMetadata), the
 * client assertion is signed with jose as a backend service does, and the client then reads, searches and writes
 * with its bearer token; without one it is refused.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { Client } from 'fhir-kit-client';
import { SignJWT } from 'jose';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { ASSERTION_TYPE, AUTH_ON, registerClient } from '../support/auth.js';

describeEachEngine('fhir-kit-client doing the backend-services flow', (engine) => {
  let s: TestServer;
  beforeAll(async () => {
    s = await startTestServer(engine, AUTH_ON);
  });
  afterAll(async () => s?.close());

  it('discovers the token endpoint, gets a token and uses it', async () => {
    const registered = await registerClient(s, 'system/Patient.cruds');
    const client = new Client({ baseUrl: s.baseUrl });
    const { tokenUrl } = await client.smartAuthMetadata();
    expect(String(tokenUrl)).toBe(`${new URL(s.baseUrl).origin}/auth/token`);
    const assertion = await new SignJWT({})
      .setProtectedHeader({ alg: registered.key.alg, kid: registered.key.kid, typ: 'JWT' })
      .setIssuer(registered.id)
      .setSubject(registered.id)
      .setAudience(String(tokenUrl))
      .setExpirationTime('4m')
      .setJti(randomUUID())
      .sign(registered.key.privateKey);
    const res = await fetch(String(tokenUrl), {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({ grant_type: 'client_credentials', scope: 'system/Patient.cruds', client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }),
    });
    const token = await res.json();
    expect(res.status).toBe(200);

    await expect(client.search({ resourceType: 'Patient', searchParams: { name: 'Kit' } })).rejects.toMatchObject({ response: { status: 401 } });
    client.bearerToken = token.access_token;
    const created = (await client.create({ resourceType: 'Patient', body: { resourceType: 'Patient', name: [{ family: 'Kit' }] } })) as unknown as { id: string };
    const read = (await client.read({ resourceType: 'Patient', id: created.id })) as unknown as { name: Array<{ family: string }> };
    expect(read.name[0].family).toBe('Kit');
    const found = (await client.search({ resourceType: 'Patient', searchParams: { name: 'Kit' } })) as unknown as { total: number };
    expect(found.total).toBe(1);
    await expect(client.search({ resourceType: 'Observation', searchParams: {} })).rejects.toMatchObject({ response: { status: 403 } });
  });
});
