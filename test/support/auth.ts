/** SMART backend services in tests: real key pairs, real signed client assertions (jose), real tokens from Stride. */
import { randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWK } from 'jose';
import { addClient, type NewClient } from '../../src/auth/clients.js';
import type { TestServer } from './server.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';

export interface TestKey {
  alg: 'RS384' | 'ES384';
  kid: string;
  privateKey: CryptoKey;
  publicJwk: JWK;
}

export async function makeKey(alg: 'RS384' | 'ES384' = 'ES384'): Promise<TestKey> {
  const { privateKey, publicKey } = await generateKeyPair(alg, { extractable: true });
  const kid = randomUUID();
  return { alg, kid, privateKey, publicJwk: { ...(await exportJWK(publicKey)), kid, alg, use: 'sig' } };
}

export interface TestClient {
  id: string;
  key: TestKey;
  patient?: string;
}

export async function registerClient(s: TestServer, scope: string, options: Partial<NewClient> & { key?: TestKey } = {}): Promise<TestClient> {
  const key = options.key ?? (await makeKey());
  const { key: _k, ...rest } = options;
  const client = await addClient(s.stride.store, { name: 'test client', scope, ...(rest.jwksUrl ? {} : { jwks: { keys: [key.publicJwk] } }), ...rest });
  return { id: client.id, key, patient: client.patient };
}

export function tokenUrl(s: TestServer): string {
  return `${new URL(s.baseUrl).origin}/auth/token`;
}

export interface AssertionOptions {
  aud?: string;
  /** Seconds from now. */
  expiresIn?: number;
  jti?: string;
  iss?: string;
}

export function signAssertion(s: TestServer, client: TestClient, options: AssertionOptions = {}): Promise<string> {
  return new SignJWT({})
    .setProtectedHeader({ alg: client.key.alg, kid: client.key.kid, typ: 'JWT' })
    .setIssuer(options.iss ?? client.id)
    .setSubject(options.iss ?? client.id)
    .setAudience(options.aud ?? tokenUrl(s))
    .setExpirationTime(Math.floor(Date.now() / 1000) + (options.expiresIn ?? 120))
    .setJti(options.jti ?? randomUUID())
    .sign(client.key.privateKey);
}

export interface TokenReply {
  status: number;
  body: any;
}

export async function requestToken(s: TestServer, assertion: string, scope: string): Promise<TokenReply> {
  const res = await fetch(tokenUrl(s), {
    method: 'POST',
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({ grant_type: 'client_credentials', scope, client_assertion_type: ASSERTION_TYPE, client_assertion: assertion }).toString(),
  });
  return { status: res.status, body: await res.json() };
}

/** A client registered with `scope` and a token for it (asking for `asked`, default the same scopes). */
export async function tokenFor(s: TestServer, scope: string, options: { patient?: string; asked?: string } = {}): Promise<string> {
  const client = await registerClient(s, scope, options.patient ? { patient: options.patient } : {});
  const reply = await requestToken(s, await signAssertion(s, client), options.asked ?? scope);
  if (reply.status !== 200) throw new Error(`token request failed: ${JSON.stringify(reply.body)}`);
  return reply.body.access_token as string;
}

export const bearer = (token: string): Record<string, string> => ({ authorization: `Bearer ${token}` });

/** A test server with auth required (it listens on loopback, where auth is off unless STRIDE_AUTH=on). */
export const AUTH_ON = { STRIDE_AUTH: 'on', STRIDE_AUDIT: 'off' };
