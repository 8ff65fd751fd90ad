/**
 * The token endpoint of SMART Backend Services (SMART App Launch 2.x, backend-services.html): `client_credentials`
 * with a `private_key_jwt` client assertion (RFC 7523), checked with jose against the client's registered JWKS (inline
 * or by URL). The assertion's `iss` and `sub` are the client id, `aud` is this endpoint's URL, `exp` at most five
 * minutes ahead, and its `jti` is never accepted twice (backend-services.html#protocol-details). RS384 and ES384 only,
 * the two algorithms the spec requires servers to support. No HTTP here: src/http/auth-endpoints.ts calls it.
 */
import { createLocalJWKSet, createRemoteJWKSet, decodeJwt, jwtVerify, type JWTVerifyGetKey } from 'jose';
import { sql } from '../sql/sql.js';
import type { Store } from '../storage/store.js';
import type { AuthConfig } from '../config.js';
import { readClient, type Client } from './clients.js';
import { covers, parseScope, splitScopes, type Scope } from './scopes.js';
import { signAccessToken } from './access-token.js';

export const ASSERTION_TYPE = 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer';
export const ASSERTION_ALGORITHMS = ['RS384', 'ES384'];
/** backend-services.html: "exp ... SHALL be no more than five minutes in the future". */
const MAX_ASSERTION_SECONDS = 300;
/** Clocks differ a little: what the assertion's times may be off by. */
const CLOCK_SKEW_SECONDS = 30;

/** An OAuth 2.0 error response (RFC 6749 §5.2). */
export interface TokenReply {
  status: number;
  body: Record<string, unknown>;
}

export interface TokenDeps {
  store: Store;
  secret: Uint8Array;
  config: AuthConfig;
  /** The issuer of access tokens (the FHIR base URL). */
  issuer: string;
}

const error = (status: number, code: string, description: string): TokenReply => ({ status, body: { error: code, error_description: description } });

const remoteKeySets = new Map<string, JWTVerifyGetKey>();

function keysOf(client: Client): JWTVerifyGetKey {
  if (client.jwks) return createLocalJWKSet(client.jwks);
  let set = remoteKeySets.get(client.jwksUrl!);
  // jose caches the fetched set and fetches again when a key id it has not seen comes (a rotated key).
  if (!set) remoteKeySets.set(client.jwksUrl!, (set = createRemoteJWKSet(new URL(client.jwksUrl!))));
  return set;
}

export async function issueToken(form: URLSearchParams, tokenUrl: string, deps: TokenDeps): Promise<TokenReply> {
  if (form.get('grant_type') !== 'client_credentials') return error(400, 'unsupported_grant_type', 'grant_type must be client_credentials (SMART Backend Services)');
  if (form.get('client_assertion_type') !== ASSERTION_TYPE) return error(400, 'invalid_request', `client_assertion_type must be ${ASSERTION_TYPE}`);
  const assertion = form.get('client_assertion');
  if (!assertion) return error(400, 'invalid_request', 'client_assertion is missing');
  const requested = form.get('scope');
  if (!requested) return error(400, 'invalid_request', 'scope is missing');
  let clientId: unknown;
  try {
    clientId = decodeJwt(assertion).iss;
  } catch {
    return error(401, 'invalid_client', 'client_assertion is not a JWT');
  }
  const client = typeof clientId === 'string' ? await readClient(deps.store.reader, clientId) : undefined;
  // One answer for an unknown and a disabled client: the endpoint does not say which client ids exist.
  if (!client || client.disabled) return error(401, 'invalid_client', 'unknown or disabled client');
  const checked = await checkAssertion(assertion, client, tokenUrl);
  if (checked.error) return error(401, 'invalid_client', checked.error);
  if (!(await firstUse(deps.store, client.id, checked.jti!, checked.exp!))) return error(401, 'invalid_client', 'this client_assertion (its jti) was used before');
  const granted = grantScopes(requested, client);
  if (granted.length === 0) return error(400, 'invalid_scope', `none of the scopes asked for is registered for this client (it may be granted: ${client.scope})`);
  const scope = granted.join(' ');
  const accessToken = await signAccessToken(deps.secret, { clientId: client.id, scope, patient: client.patient, issuer: deps.issuer, lifetimeSeconds: deps.config.tokenLifetimeSeconds });
  return {
    status: 200,
    body: { access_token: accessToken, token_type: 'bearer', expires_in: deps.config.tokenLifetimeSeconds, scope, ...(client.patient ? { patient: client.patient } : {}) },
  };
}

async function checkAssertion(assertion: string, client: Client, tokenUrl: string): Promise<{ error?: string; jti?: string; exp?: number }> {
  try {
    const { payload } = await jwtVerify(assertion, keysOf(client), {
      algorithms: ASSERTION_ALGORITHMS,
      audience: tokenUrl,
      issuer: client.id,
      subject: client.id,
      requiredClaims: ['exp', 'jti'],
      clockTolerance: CLOCK_SKEW_SECONDS,
    });
    if (payload.exp! > Date.now() / 1000 + MAX_ASSERTION_SECONDS + CLOCK_SKEW_SECONDS) return { error: 'the assertion expires more than five minutes from now' };
    if (typeof payload.jti !== 'string' || payload.jti === '' || payload.jti.length > 255) return { error: 'the assertion needs a jti (at most 255 characters)' };
    return { jti: payload.jti, exp: payload.exp! };
  } catch (err) {
    return { error: describe(err) };
  }
}

/** jose's error codes, as the client should read them; nothing about the keys themselves. */
function describe(err: unknown): string {
  const code = (err as { code?: string }).code;
  const claim = (err as { claim?: string }).claim;
  switch (code) {
    case 'ERR_JWT_EXPIRED':
      return 'the assertion has expired';
    case 'ERR_JOSE_ALG_NOT_ALLOWED':
      return `the assertion must be signed with ${ASSERTION_ALGORITHMS.join(' or ')}`;
    case 'ERR_JWKS_NO_MATCHING_KEY':
    case 'ERR_JWKS_MULTIPLE_MATCHING_KEYS':
      return 'no registered key of this client matches the assertion (kid, alg)';
    case 'ERR_JWS_SIGNATURE_VERIFICATION_FAILED':
      return 'the assertion signature does not verify';
    case 'ERR_JWT_CLAIM_VALIDATION_FAILED':
      return claim === 'aud' ? `the assertion's aud must be the token endpoint URL` : `the assertion's ${claim ?? 'claims'} claim is not valid`;
    case 'ERR_JWKS_TIMEOUT':
    case 'ERR_JOSE_GENERIC':
      return "the client's JWKS could not be fetched";
    default:
      return 'the assertion is not a valid signed JWT';
  }
}

/** Records a jti; false when the client used it already (within the life of the assertion that carried it). */
async function firstUse(store: Store, clientId: string, jti: string, exp: number): Promise<boolean> {
  const now = Date.now();
  return store.transaction(async (tx) => {
    await tx.run(sql`DELETE FROM auth_jti WHERE expires_at < ${now - CLOCK_SKEW_SECONDS * 1000}`);
    const { changes } = await tx.run(sql`INSERT INTO auth_jti (client_id, jti, expires_at) VALUES (${clientId}, ${jti}, ${exp * 1000}) ON CONFLICT DO NOTHING`);
    return changes === 1;
  });
}

/**
 * The scopes asked for that the client's registration covers (a server may grant less than asked: RFC 6749 §3.3);
 * a registered patient/ client asking with system/ gets nothing, and the other way round.
 */
function grantScopes(requested: string, client: Client): string[] {
  const registered = splitScopes(client.scope).map(parseScope).filter((s): s is Scope => !!s);
  return splitScopes(requested).filter((text) => {
    const wanted = parseScope(text);
    return wanted !== undefined && registered.some((r) => covers(r, wanted));
  });
}
