/**
 * `stride clients add|list|disable`: the SMART backend-services clients, in the database (src/auth/clients.ts), so that
 * every Stride process on the same database knows them. `add` prints the new client_id (`--json`: the client as JSON).
 */
import { readFileSync } from 'node:fs';
import type { JSONWebKeySet } from 'jose';
import { loadConfig } from '../config.js';
import { openStore } from '../storage/open.js';
import type { Store } from '../storage/store.js';
import { addClient, disableClient, listClients, type Client } from '../auth/clients.js';

export interface AddClientOptions {
  name: string;
  jwks: string;
  scope: string;
  patient?: string;
  json?: boolean;
}

async function withStore(work: (store: Store) => Promise<number>): Promise<number> {
  const store = await openStore(loadConfig());
  try {
    await store.migrate();
    return await work(store);
  } finally {
    await store.close();
  }
}

function readJwks(file: string): JSONWebKeySet {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new Error(`--jwks ${file}: ${(err as Error).message}`);
  }
  try {
    return JSON.parse(text) as JSONWebKeySet;
  } catch {
    throw new Error(`--jwks ${file} is not JSON (a JWKS: {"keys": [...]})`);
  }
}

/** `--patient Patient/123` or `123`. */
function patientId(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  return value.startsWith('Patient/') ? value.slice('Patient/'.length) : value;
}

function describe(c: Client): Record<string, unknown> {
  return { client_id: c.id, name: c.name, scope: c.scope, ...(c.patient ? { patient: `Patient/${c.patient}` } : {}), jwks: c.jwksUrl ?? 'inline', disabled: c.disabled, created: new Date(c.createdAt).toISOString() };
}

export function addClientCommand(options: AddClientOptions): Promise<number> {
  const byUrl = /^https?:\/\//.test(options.jwks);
  const registration = { name: options.name, scope: options.scope, patient: patientId(options.patient), ...(byUrl ? { jwksUrl: options.jwks } : { jwks: readJwks(options.jwks) }) };
  return withStore(async (store) => {
    const client = await addClient(store, registration);
    process.stdout.write(options.json ? JSON.stringify(describe(client)) + '\n' : `${client.id}\n`);
    return 0;
  });
}

export function listClientsCommand(options: { json?: boolean }): Promise<number> {
  return withStore(async (store) => {
    const clients = await listClients(store.reader);
    if (options.json) process.stdout.write(JSON.stringify(clients.map(describe)) + '\n');
    else if (clients.length === 0) process.stdout.write('no clients (stride clients add --name ... --jwks FILE|URL --scope "system/*.rs")\n');
    else for (const c of clients) process.stdout.write(`${c.id}  ${c.disabled ? 'DISABLED' : 'active  '}  ${c.name}  scope="${c.scope}"${c.patient ? `  patient=Patient/${c.patient}` : ''}\n`);
    return 0;
  });
}

export function disableClientCommand(id: string): Promise<number> {
  return withStore(async (store) => {
    if (!(await disableClient(store, id))) {
      process.stderr.write(`stride: no client ${id}\n`);
      return 1;
    }
    process.stdout.write(`client ${id} disabled: no new tokens; its tokens stop working within seconds\n`);
    return 0;
  });
}
