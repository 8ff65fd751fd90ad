/**
 * The audit trail's own table (migration 13): an access is one narrow row of the facts its AuditEvent states
 * (audit-event.ts AuditFacts), and the AuditEvent is built from the row when it is read. Stored as a resource, each
 * access cost a current row and a history row of 1.3 KB of JSON and nine search index rows, some thirty B-tree
 * insertions: ~75 us of database work an access, a third of a read by id (issue 23 asks for reads and writes with
 * auth and audit at >= 90% of their speed without). A row here is ~150 bytes and five B-tree insertions.
 *
 * What this changes for a client, and nothing else: AuditEvents are read (read, vread of version 1, the instance's
 * history) and searched as before, by the R4 parameters an auditor asks with (see audit-search.ts), with paging,
 * `_sort`, `_total` and `_summary=count`; they are not in type or system history (they record accesses, not
 * changes), not in a search across types, `_include`, `_revinclude`, `_has` or chains, and not in Bulk export: each
 * of those names AuditEvent is a 400 saying so, never a silent empty answer. profiles/README.md §14 says the same.
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryer, ResourceRow } from '../storage/store.js';
import { fragments, join, sql, type Sql } from '../sql/sql.js';
import { isValidId, newId, nextTimestamp, stamp } from '../repo/meta.js';
import { AuditJson, factsOf, type AuditColumns } from './audit-event.js';

export const AUDIT_TYPE = 'AuditEvent';

export function auditTables(): string[] {
  return [
    // entity_kind: 'q' a query (entity_text its path, query its query string), 'r' a resource (entity_ref `Type/id`),
    // 'o' anything else (entity_text `METHOD path`), '-' nothing; 'x' an event of Stride's own that is not an access
    // (a bot's failure), kept whole in content, with the systems of its subtype and of its agent's identifier (in
    // client_id): an access's are fixed, these columns NULL. patient: the id of a patient-scoped client's patient.
    `CREATE TABLE audit_event (
      id VARCHAR(64) NOT NULL PRIMARY KEY,
      recorded BIGINT NOT NULL,
      last_updated BIGINT NOT NULL,
      subtype VARCHAR(32) NOT NULL,
      action VARCHAR(1) NOT NULL,
      outcome VARCHAR(1) NOT NULL,
      status INTEGER,
      client_id VARCHAR(64),
      address VARCHAR(256),
      entity_kind VARCHAR(1) NOT NULL,
      entity_ref VARCHAR(200),
      entity_text TEXT,
      query TEXT,
      patient VARCHAR(64),
      content TEXT,
      subtype_system VARCHAR(200),
      agent_system VARCHAR(200)
    )`,
    // The further resources an event of Stride's own other than an access names (a bot's failure on a transaction's
    // several resources): the first is the row's entity_ref, each is here.
    `CREATE TABLE audit_event_entity (
      id VARCHAR(64) NOT NULL,
      entity_ref VARCHAR(200) NOT NULL,
      PRIMARY KEY (entity_ref, id)
    )`,
    // Partial indexes: an access with no client, resource or patient (most have no patient) costs them nothing.
    'CREATE INDEX audit_event_recorded ON audit_event (recorded)',
    'CREATE INDEX audit_event_client ON audit_event (client_id, recorded) WHERE client_id IS NOT NULL',
    'CREATE INDEX audit_event_ref ON audit_event (entity_ref, recorded) WHERE entity_ref IS NOT NULL',
    'CREATE INDEX audit_event_patient ON audit_event (patient, recorded) WHERE patient IS NOT NULL',
  ];
}

/** An access to write: its columns, its id, and when it is written (version 1's lastUpdated). */
export interface AuditRow {
  id: string;
  lastUpdated: number;
  columns: AuditColumns;
}

/** The columns of an access's row, in the order auditValues gives them. */
export const AUDIT_COLUMNS = ['id', 'recorded', 'last_updated', 'subtype', 'action', 'outcome', 'status', 'client_id', 'address', 'entity_kind', 'entity_ref', 'entity_text', 'query', 'patient'] as const;

export function auditValues(r: AuditRow): unknown[] {
  const c = r.columns;
  return [r.id, c.recorded, r.lastUpdated, c.subtype, c.action, c.outcome, c.status, c.client_id, c.address, c.entity_kind, c.entity_ref, c.entity_text, c.query, c.patient];
}

/** A multi-row INSERT of accesses inside a transaction (migration 13's move); the audit log appends with Store.appendRows. */
export function insertAuditRows(rows: readonly AuditRow[]): Sql {
  const strings = [`INSERT INTO audit_event (${AUDIT_COLUMNS.join(', ')}) VALUES (`];
  const values: unknown[] = [];
  rows.forEach((r, i) => {
    if (i > 0) strings[strings.length - 1] += ', (';
    values.push(...auditValues(r));
    for (let c = 1; c < AUDIT_COLUMNS.length; c++) strings.push(', ');
    strings.push(')');
  });
  return fragments(strings, values);
}

export interface StoredAudit extends Omit<AuditColumns, 'recorded' | 'status'> {
  id: string;
  recorded: number | string;
  last_updated: number | string;
  status: number | string | null;
  content: string | null;
}

/** A row as read (PostgreSQL gives BIGINT as text) as the columns it was written with. */
function columnsOf(row: StoredAudit): AuditColumns {
  return { ...row, recorded: Number(row.recorded), status: row.status === null ? null : Number(row.status) };
}

const json = new AuditJson('Stride');

/** A stored access as the row of a resource: its AuditEvent, version 1. */
export function toResourceRow(row: StoredAudit): ResourceRow {
  const lastUpdated = Number(row.last_updated);
  const content = row.content ?? json.render(factsOf(columnsOf(row)), { id: row.id, lastUpdated });
  return { resource_type: AUDIT_TYPE, id: row.id, version_id: 1, last_updated: lastUpdated, deleted: 0, content };
}

/**
 * An AuditEvent of Stride's own that is not an access (a bot's failure, src/bots/failures.ts), written in the
 * caller's transaction: kept whole, found by date, subtype, action, outcome and each resource it names (`entity`).
 */
export async function insertOwnAuditEvent(tx: Queryer, event: AuditEvent, stored?: { id: string; lastUpdated: number; json: string }): Promise<string> {
  const id = stored?.id ?? newId();
  const lastUpdated = stored?.lastUpdated ?? nextTimestamp();
  const content = stored?.json ?? stamp(event, id, 1, lastUpdated).json;
  const refs = [...new Set((event.entity ?? []).map((e) => REFERENCE_OF.exec(e.what?.reference ?? '')?.[1]).filter((r): r is string => r !== undefined))];
  const agent = (event.agent ?? []).find((a) => a.who?.identifier?.value)?.who?.identifier;
  const subtype = event.subtype?.[0];
  await tx.run(sql`INSERT INTO audit_event (id, recorded, last_updated, subtype, subtype_system, action, outcome, status, client_id, agent_system, address, entity_kind, entity_ref, entity_text, query, patient, content)
    VALUES (${id}, ${Date.parse(event.recorded)}, ${lastUpdated}, ${subtype?.code ?? ''}, ${subtype?.system ?? ''}, ${event.action ?? ''}, ${event.outcome ?? ''}, ${null}, ${agent?.value ?? null}, ${agent?.system ?? ''}, ${null}, 'x', ${refs[0] ?? null}, ${null}, ${null}, ${null}, ${content})`);
  for (const ref of refs.slice(1)) await tx.run(sql`INSERT INTO audit_event_entity (id, entity_ref) VALUES (${id}, ${ref})`);
  return id;
}

/** `Type/id` of a reference, with or without `/_history/n`. */
export const REFERENCE_OF = /^([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

export async function readAuditEvent(db: Queryer, id: string): Promise<ResourceRow | undefined> {
  if (!isValidId(id)) return undefined;
  const row = await db.get<StoredAudit>(sql`SELECT * FROM audit_event WHERE id = ${id}`);
  return row ? toResourceRow(row) : undefined;
}

export async function readAuditEvents(db: Queryer, ids: readonly string[]): Promise<ResourceRow[]> {
  const valid = ids.filter(isValidId);
  if (valid.length === 0) return [];
  const rows = await db.all<StoredAudit>(sql`SELECT * FROM audit_event WHERE id IN (${join(valid.map((id) => sql`${id}`), ', ')})`);
  return rows.map(toResourceRow);
}
