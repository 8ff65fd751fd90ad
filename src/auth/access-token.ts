/**
 * Stride's own access tokens: JWTs (jose) with `client_id`, `scope` and, for a patient-scoped client, `patient`;
 * signed with the secret of signing-key.ts, short-lived. Verified on every request; a token verified once is kept in
 * a small cache until it expires, so the per-request cost is a map lookup.
 */
import { randomUUID } from 'node:crypto';
import { jwtVerify, SignJWT } from 'jose';
import type { Access } from './access.js';
import { Grants } from './scopes.js';

export interface AccessTokenClaims {
  clientId: string;
  scope: string;
  patient?: string;
  issuer: string;
  lifetimeSeconds: number;
}

export function signAccessToken(secret: Uint8Array, claims: AccessTokenClaims): Promise<string> {
  return new SignJWT({ client_id: claims.clientId, scope: claims.scope, ...(claims.patient ? { patient: claims.patient } : {}) })
    .setProtectedHeader({ alg: 'HS256', typ: 'at+jwt' })
    .setIssuer(claims.issuer)
    .setSubject(claims.clientId)
    .setIssuedAt()
    .setExpirationTime(`${claims.lifetimeSeconds}s`)
    .setJti(randomUUID())
    .sign(secret);
}

interface Cached {
  access: Access;
  /** Epoch ms. */
  expiresAt: number;
}

const CACHE_SIZE = 10_000;

export class AccessTokenVerifier {
  private readonly cache = new Map<string, Cached>();

  constructor(
    private readonly secret: Uint8Array,
    private readonly issuer: string,
  ) {}

  /** The caller a token stands for, or undefined when it is not a valid, unexpired token of this server. */
  async verify(token: string): Promise<Access | undefined> {
    const now = Date.now();
    const hit = this.cache.get(token);
    if (hit) {
      if (hit.expiresAt > now) return hit.access;
      this.cache.delete(token);
      return undefined;
    }
    try {
      const { payload } = await jwtVerify(token, this.secret, { algorithms: ['HS256'], issuer: this.issuer, requiredClaims: ['exp', 'client_id', 'scope'] });
      const scope = String(payload.scope);
      const access: Access = { clientId: String(payload.client_id), scope, grants: Grants.parse(scope), ...(typeof payload.patient === 'string' ? { patient: payload.patient } : {}) };
      if (this.cache.size >= CACHE_SIZE) this.cache.clear();
      this.cache.set(token, { access, expiresAt: payload.exp! * 1000 });
      return access;
    } catch {
      return undefined;
    }
  }
}
