/** Registered SMART backend-services clients, in the database (auth_client, migration 11): both engines, every process. */
import { randomUUID } from 'node:crypto';
import type { JSONWebKeySet } from 'jose';
import { sql } from '../sql/sql.js';
import type { Queryer, Store } from '../storage/store.js';
import { parseScope, splitScopes } from './scopes.js';

export interface Client {
  id: string;
  name: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  /** The scopes it may be granted, space-separated. */
  scope: string;
  /** Its patient (an id), for a client registered with --patient: its tokens see that patient's compartment only. */
  patient?: string;
  disabled: boolean;
  createdAt: number;
}

export interface NewClient {
  name: string;
  jwks?: JSONWebKeySet;
  jwksUrl?: string;
  scope: string;
  patient?: string;
}

interface ClientRow {
  id: string;
  name: string;
  jwks: string | null;
  jwks_url: string | null;
  scope: string;
  patient: string | null;
  disabled: number;
  created_at: number | string;
}

function toClient(row: ClientRow): Client {
  return {
    id: row.id,
    name: row.name,
    jwks: row.jwks ? (JSON.parse(row.jwks) as JSONWebKeySet) : undefined,
    jwksUrl: row.jwks_url ?? undefined,
    scope: row.scope,
    patient: row.patient ?? undefined,
    disabled: Number(row.disabled) === 1,
    createdAt: Number(row.created_at),
  };
}

/** Checks a registration; throws an Error saying what is wrong. */
export function checkNewClient(client: NewClient): void {
  if (!client.name.trim()) throw new Error('a client needs a --name');
  if (!client.jwks === !client.jwksUrl) throw new Error('a client needs its public keys: --jwks FILE (a JWKS) or --jwks URL');
  if (client.jwks) {
    if (!Array.isArray(client.jwks.keys) || client.jwks.keys.length === 0) throw new Error('the JWKS has no keys');
    // A private key in a client's registration would be a secret kept where it does not belong.
    if (client.jwks.keys.some((k) => 'd' in k)) throw new Error('the JWKS holds a private key ("d"): register the public keys only');
  }
  if (client.jwksUrl && !/^https?:\/\//.test(client.jwksUrl)) throw new Error(`--jwks ${client.jwksUrl}: a URL must be http(s)`);
  const scopes = splitScopes(client.scope);
  if (scopes.length === 0) throw new Error('a client needs --scope, e.g. "system/*.rs"');
  const wanted = client.patient ? 'patient' : 'system';
  for (const text of scopes) {
    const scope = parseScope(text);
    if (!scope) throw new Error(`scope "${text}" is not one Stride grants: use system/Type.cruds (or .read/.write) or, with --patient, patient/Type.cruds`);
    if (scope.context !== wanted) {
      throw new Error(client.patient ? `scope "${text}": a client registered for a patient is granted patient/ scopes only` : `scope "${text}": patient/ scopes need --patient Patient/ID`);
    }
  }
  if (client.patient !== undefined && !/^[A-Za-z0-9\-.]{1,64}$/.test(client.patient)) throw new Error(`--patient: "${client.patient}" is not a Patient id`);
}

export async function addClient(store: Store, registration: NewClient): Promise<Client> {
  // `Patient/123` or `123`.
  const patient = registration.patient?.replace(/^Patient\//, '');
  const client = { ...registration, patient };
  checkNewClient(client);
  const id = randomUUID();
  const now = Date.now();
  await store.transaction((tx) =>
    tx.run(sql`INSERT INTO auth_client (id, name, jwks, jwks_url, scope, patient, disabled, created_at)
      VALUES (${id}, ${client.name}, ${client.jwks ? JSON.stringify(client.jwks) : null}, ${client.jwksUrl ?? null}, ${client.scope}, ${client.patient ?? null}, ${0}, ${now})`),
  );
  return { id, ...client, disabled: false, createdAt: now };
}

export async function listClients(db: Queryer): Promise<Client[]> {
  return (await db.all<ClientRow>(sql`SELECT * FROM auth_client ORDER BY created_at, id`)).map(toClient);
}

export async function readClient(db: Queryer, id: string): Promise<Client | undefined> {
  const row = await db.get<ClientRow>(sql`SELECT * FROM auth_client WHERE id = ${id}`);
  return row ? toClient(row) : undefined;
}

/** Disables a client: no new token, and its tokens already issued stop working (checked on every request). */
export async function disableClient(store: Store, id: string): Promise<boolean> {
  const { changes } = await store.transaction((tx) => tx.run(sql`UPDATE auth_client SET disabled = ${1} WHERE id = ${id}`));
  return changes > 0;
}
