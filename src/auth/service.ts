/**
 * One process's SMART backend services: the token endpoint, and the check of the access token on every request.
 * src/http extracts the token and hands it here; what the token allows is checked by guard.ts at the src/fhir boundary.
 */
import { OperationOutcomeError } from '@medplum/core';
import { unauthorized } from '../fhir/outcomes.js';
import type { Store } from '../storage/store.js';
import type { AuthConfig } from '../config.js';
import type { Access } from './access.js';
import { AccessTokenVerifier } from './access-token.js';
import { readClient } from './clients.js';
import { loadSigningSecret } from './signing-key.js';
import { issueToken, type TokenReply } from './token-endpoint.js';

/** The `iss` of Stride's access tokens: only Stride reads them. */
const ISSUER = 'stride';
/** How long a process trusts what it read of a client (disabled or not): `stride clients disable` takes effect within it. */
const CLIENT_CHECK_MS = 5_000;

/** A 401 (RFC 6750 §3): the challenge goes into WWW-Authenticate; the body says no more than "no valid token". */
export class UnauthorizedError extends OperationOutcomeError {
  constructor(readonly challenge: string, text: string) {
    super(unauthorized(text));
  }
}

export class AuthService {
  private readonly verifier: AccessTokenVerifier;
  private readonly clientsSeen = new Map<string, { disabled: boolean; at: number }>();

  private constructor(
    readonly config: AuthConfig,
    private readonly store: Store,
    private readonly secret: Uint8Array,
  ) {
    this.verifier = new AccessTokenVerifier(secret, ISSUER);
  }

  static async open(config: AuthConfig, store: Store): Promise<AuthService> {
    return new AuthService(config, store, await loadSigningSecret(store));
  }

  get required(): boolean {
    return this.config.required;
  }

  token(form: URLSearchParams, tokenUrl: string): Promise<TokenReply> {
    return issueToken(form, tokenUrl, { store: this.store, secret: this.secret, config: this.config, issuer: ISSUER });
  }

  /** The caller of a request from its Authorization header; a 401 when auth is required and the token is missing or bad. */
  async authenticate(authorization: string | undefined): Promise<Access> {
    if (!authorization) throw new UnauthorizedError('Bearer realm="stride"', 'This server needs an access token (SMART Backend Services): see /.well-known/smart-configuration');
    const m = /^Bearer\s+([A-Za-z0-9\-_.~+/]+=*)\s*$/i.exec(authorization);
    const access = m ? await this.verifier.verify(m[1]) : undefined;
    if (!access || (await this.clientDisabled(access.clientId))) {
      throw new UnauthorizedError('Bearer realm="stride", error="invalid_token"', 'The access token is not valid (expired, revoked, or not issued here)');
    }
    return access;
  }

  private async clientDisabled(id: string): Promise<boolean> {
    const now = Date.now();
    const seen = this.clientsSeen.get(id);
    if (seen && now - seen.at < CLIENT_CHECK_MS) return seen.disabled;
    const client = await readClient(this.store.reader, id);
    const disabled = !client || client.disabled;
    this.clientsSeen.set(id, { disabled, at: now });
    return disabled;
  }
}
