/** Environment -> typed Config (DESIGN §2). */
import path from 'node:path';

export interface Config {
  port: number;
  host: string;
  /** Directory of the SQLite file (STRIDE_DATA_DIR, default ./data). */
  dataDir: string;
  /** postgres://... selects PostgreSQL; unset means SQLite under dataDir. */
  databaseUrl?: string;
  /** Largest request body accepted, in bytes (STRIDE_BODY_LIMIT, default 32 MiB). */
  bodyLimit: number;
  /** Public base URL override (STRIDE_BASE_URL); default http://localhost:PORT/fhir. */
  baseUrl?: string;
  /** Default and maximum page sizes for search and history. */
  defaultCount: number;
  maxCount: number;
  /** Most entries accepted in one batch or transaction Bundle. */
  maxBundleEntries: number;
  logLevel: string;
  /** The implementation guide folder (STRIDE_PROFILES_DIR); default profiles/ at the repository root. */
  profilesDir?: string;
  sqliteSynchronous: 'NORMAL' | 'FULL';
  /** Bot directories (STRIDE_BOTS_DIR, several separated by the path delimiter); default the bots shipped with Stride. */
  botsDirs?: string[];
  /** Payer policy files (STRIDE_POLICIES_DIR); default bots/policies/. */
  policiesDir?: string;
  /** Url prefixes whose unknown extensions $validate accepts (STRIDE_EXTENSION_DOMAINS, comma-separated); default none. */
  extensionDomains: string[];
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sync = (env.STRIDE_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`STRIDE_SQLITE_SYNCHRONOUS must be NORMAL or FULL, got "${sync}"`);
  return {
    port: int(env.STRIDE_PORT, 8080, 'STRIDE_PORT'),
    host: env.STRIDE_HOST ?? '0.0.0.0',
    dataDir: path.resolve(env.STRIDE_DATA_DIR ?? './data'),
    databaseUrl: env.STRIDE_DATABASE_URL || undefined,
    bodyLimit: int(env.STRIDE_BODY_LIMIT, 32 * 1024 * 1024, 'STRIDE_BODY_LIMIT'),
    baseUrl: env.STRIDE_BASE_URL || undefined,
    defaultCount: int(env.STRIDE_DEFAULT_COUNT, 20, 'STRIDE_DEFAULT_COUNT'),
    maxCount: int(env.STRIDE_MAX_COUNT, 1000, 'STRIDE_MAX_COUNT'),
    maxBundleEntries: int(env.STRIDE_MAX_BUNDLE_ENTRIES, 20000, 'STRIDE_MAX_BUNDLE_ENTRIES'),
    logLevel: env.STRIDE_LOG_LEVEL ?? 'info',
    profilesDir: env.STRIDE_PROFILES_DIR ? path.resolve(env.STRIDE_PROFILES_DIR) : undefined,
    sqliteSynchronous: sync,
    botsDirs: env.STRIDE_BOTS_DIR ? env.STRIDE_BOTS_DIR.split(path.delimiter).filter(Boolean).map((d) => path.resolve(d)) : undefined,
    policiesDir: env.STRIDE_POLICIES_DIR ? path.resolve(env.STRIDE_POLICIES_DIR) : undefined,
    extensionDomains: (env.STRIDE_EXTENSION_DOMAINS ?? '').split(',').map((d) => d.trim()).filter(Boolean),
  };
}
