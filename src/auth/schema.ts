/**
 * The tables of SMART Backend Services (migration 11, src/storage/schema.ts), in the database so that every Stride
 * process behind a load balancer knows the same clients, refuses the same replayed assertion, and verifies the
 * access tokens any of them signed.
 */
export function authTables(): string[] {
  return [
    // A registered client: its JWKS inline (jwks, JSON) or by URL (jwks_url); the scopes it may be granted; the patient
    // it is bound to (patient/ scopes), if any. disabled: 1 once `stride clients disable` ran (never deleted: the
    // AuditEvents name it).
    `CREATE TABLE auth_client (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      name VARCHAR(200) NOT NULL,
      jwks TEXT,
      jwks_url VARCHAR(2000),
      scope TEXT NOT NULL,
      patient VARCHAR(64),
      disabled INTEGER NOT NULL,
      created_at BIGINT NOT NULL
    )`,
    // The jti of every client assertion accepted, until it expires: one seen twice is refused (SMART backend services).
    `CREATE TABLE auth_jti (
      client_id VARCHAR(64) NOT NULL,
      jti VARCHAR(255) NOT NULL,
      expires_at BIGINT NOT NULL,
      PRIMARY KEY (client_id, jti)
    )`,
    `CREATE INDEX auth_jti_expires ON auth_jti (expires_at)`,
    // The secret Stride signs its access tokens with (HS256: only Stride verifies them), made by the first process.
    `CREATE TABLE auth_key (
      id VARCHAR(32) NOT NULL PRIMARY KEY,
      secret TEXT NOT NULL,
      created_at BIGINT NOT NULL
    )`,
  ];
}
