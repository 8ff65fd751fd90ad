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
  /** Bulk Data $export (src/analytics/export-*.ts): STRIDE_EXPORT_* settings. */
  export: ExportConfig;
  /** The submitter of 837P files ($submit, src/claims/submit.ts): STRIDE_X12_* settings. */
  x12: X12Config;
  /** SMART backend services (src/auth/): STRIDE_AUTH, STRIDE_AUDIT ... */
  auth: AuthConfig;
  /** Scheduled jobs and their email (src/jobs/): STRIDE_JOBS_*, STRIDE_SMTP_URL, STRIDE_MAIL_FROM. */
  jobs: JobsConfig;
}

export interface JobsConfig {
  /** Seconds between two looks at the schedules (STRIDE_JOBS_TICK_SECONDS, default 30); 0: this process runs no schedule. */
  tickSeconds: number;
  /** Seconds a run (or a message being sent) stays with its process without renewing (STRIDE_JOBS_LEASE_SECONDS, default 60). */
  leaseSeconds: number;
  /** smtp://user:pass@host:port or smtps://... (STRIDE_SMTP_URL): without it, jobs that send email are refused. */
  smtpUrl?: string;
  /** The From address of statements and reminders (STRIDE_MAIL_FROM, default billing@localhost). */
  mailFrom: string;
}

export interface AuthConfig {
  /** Every request needs an access token (STRIDE_AUTH=on|off; default on unless Stride listens on loopback only). */
  required: boolean;
  /** Why `required` is what it is, for the start-up message. */
  reason: string;
  /** Auth is off on a non-loopback address, confirmed by STRIDE_AUTH_OFF_CONFIRM: start-up warns. */
  openOnNetwork: boolean;
  /** An AuditEvent for every access (STRIDE_AUDIT=on|off; default: when auth is on). */
  audit: boolean;
  /** Lifetime of an access token in seconds (STRIDE_TOKEN_LIFETIME_SECONDS, default 300). */
  tokenLifetimeSeconds: number;
}

/** The value STRIDE_AUTH_OFF_CONFIRM must have for Stride to serve without auth on a non-loopback address. */
export const AUTH_OFF_CONFIRMATION = 'i-understand-anyone-on-the-network-can-read-and-change-all-data';

/** 127.0.0.0/8, ::1 and localhost reach this machine only. */
export function isLoopback(host: string): boolean {
  const h = host.trim().toLowerCase().replace(/^\[|\]$/g, '');
  return h === 'localhost' || h === '::1' || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(h);
}

function onOff(value: string | undefined, name: string): boolean | undefined {
  if (value === undefined || value === '') return undefined;
  const v = value.trim().toLowerCase();
  if (v === 'on' || v === 'true' || v === '1') return true;
  if (v === 'off' || v === 'false' || v === '0') return false;
  throw new Error(`${name} must be on or off, got "${value}"`);
}

/** Secure by default (issue 23): on loopback auth is off; anywhere else it is on unless explicitly turned off and confirmed. */
export function loadAuthConfig(env: NodeJS.ProcessEnv, host: string): AuthConfig {
  const asked = onOff(env.STRIDE_AUTH, 'STRIDE_AUTH');
  const loopback = isLoopback(host);
  if (asked === false && !loopback && env.STRIDE_AUTH_OFF_CONFIRM !== AUTH_OFF_CONFIRMATION) {
    throw new Error(`STRIDE_AUTH=off on ${host}, which is not loopback, would let anyone who reaches the port read and change every record: set STRIDE_AUTH_OFF_CONFIRM=${AUTH_OFF_CONFIRMATION} if that is really meant (e.g. behind a gateway that authenticates), or listen on 127.0.0.1`);
  }
  const required = asked ?? !loopback;
  const reason = asked !== undefined ? `STRIDE_AUTH=${asked ? 'on' : 'off'}` : loopback ? `listening on loopback (${host}) only` : `listening on ${host}, not loopback`;
  return {
    required,
    reason,
    openOnNetwork: !required && !loopback,
    audit: onOff(env.STRIDE_AUDIT, 'STRIDE_AUDIT') ?? required,
    tokenLifetimeSeconds: positive(int(env.STRIDE_TOKEN_LIFETIME_SECONDS, 300, 'STRIDE_TOKEN_LIFETIME_SECONDS'), 'STRIDE_TOKEN_LIFETIME_SECONDS'),
  };
}

export interface X12Config {
  /** ISA06, GS02, 1000A NM109: the submitter id the clearinghouse assigned (STRIDE_X12_SENDER_ID). */
  senderId: string;
  /** 1000A NM103: the submitter's name (STRIDE_X12_SUBMITTER_NAME). */
  name: string;
  /** 1000A PER02: whom the payer calls about a file (STRIDE_X12_CONTACT). */
  contactName: string;
  /** 1000A PER04 (STRIDE_X12_PHONE); without it, the billing provider's phone (Organization.telecom). */
  phone?: string;
}

export interface ExportConfig {
  /** Largest output file in bytes (STRIDE_EXPORT_FILE_SIZE): a type with more is split into numbered files. */
  fileSize: number;
  /** Seconds the files of a finished export are kept (STRIDE_EXPORT_RETENTION_SECONDS); then they and the job go. */
  retentionSeconds: number;
  /** Resources read per page and per checkpoint (STRIDE_EXPORT_PAGE_SIZE). */
  pageSize: number;
  /** Pause between pages in milliseconds (STRIDE_EXPORT_PAUSE_MS), to spare a busy server; 0 runs flat out. */
  pauseMs: number;
  /** Seconds a job stays with the process running it without a checkpoint (STRIDE_EXPORT_LEASE_SECONDS). */
  leaseSeconds: number;
  /** Jobs this process runs at once (STRIDE_EXPORT_WORKERS); 0 takes kick-offs and serves files but runs none. */
  workers: number;
}

function int(value: string | undefined, fallback: number, name: string): number {
  if (value === undefined || value === '') return fallback;
  const n = Number(value);
  if (!Number.isInteger(n) || n < 0) throw new Error(`${name} must be a whole number, got "${value}"`);
  return n;
}

function positive(n: number, name: string): number {
  if (n === 0) throw new Error(`${name} must be at least 1`);
  return n;
}

export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const sync = (env.STRIDE_SQLITE_SYNCHRONOUS ?? 'NORMAL').toUpperCase();
  if (sync !== 'NORMAL' && sync !== 'FULL') throw new Error(`STRIDE_SQLITE_SYNCHRONOUS must be NORMAL or FULL, got "${sync}"`);
  // Loopback unless told otherwise (issue 23): a laptop's `npm start` is not on the network.
  const host = env.STRIDE_HOST || '127.0.0.1';
  return {
    port: int(env.STRIDE_PORT, 8080, 'STRIDE_PORT'),
    host,
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
    export: {
      fileSize: positive(int(env.STRIDE_EXPORT_FILE_SIZE, 100 * 1024 * 1024, 'STRIDE_EXPORT_FILE_SIZE'), 'STRIDE_EXPORT_FILE_SIZE'),
      retentionSeconds: int(env.STRIDE_EXPORT_RETENTION_SECONDS, 24 * 3600, 'STRIDE_EXPORT_RETENTION_SECONDS'),
      pageSize: positive(int(env.STRIDE_EXPORT_PAGE_SIZE, 1000, 'STRIDE_EXPORT_PAGE_SIZE'), 'STRIDE_EXPORT_PAGE_SIZE'),
      pauseMs: int(env.STRIDE_EXPORT_PAUSE_MS, 0, 'STRIDE_EXPORT_PAUSE_MS'),
      leaseSeconds: positive(int(env.STRIDE_EXPORT_LEASE_SECONDS, 30, 'STRIDE_EXPORT_LEASE_SECONDS'), 'STRIDE_EXPORT_LEASE_SECONDS'),
      workers: int(env.STRIDE_EXPORT_WORKERS, 1, 'STRIDE_EXPORT_WORKERS'),
    },
    x12: {
      senderId: env.STRIDE_X12_SENDER_ID || 'STRIDE',
      name: env.STRIDE_X12_SUBMITTER_NAME || 'STRIDE BILLING',
      contactName: env.STRIDE_X12_CONTACT || 'BILLING OFFICE',
      phone: env.STRIDE_X12_PHONE || undefined,
    },
    auth: loadAuthConfig(env, host),
    jobs: {
      tickSeconds: int(env.STRIDE_JOBS_TICK_SECONDS, 30, 'STRIDE_JOBS_TICK_SECONDS'),
      leaseSeconds: positive(int(env.STRIDE_JOBS_LEASE_SECONDS, 60, 'STRIDE_JOBS_LEASE_SECONDS'), 'STRIDE_JOBS_LEASE_SECONDS'),
      smtpUrl: env.STRIDE_SMTP_URL || undefined,
      mailFrom: env.STRIDE_MAIL_FROM || 'billing@localhost',
    },
  };
}
