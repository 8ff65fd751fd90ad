/**
 * The audit trail's own table (migration 13): an access is one narrow row of the facts its AuditEvent states
 * (audit-event.ts AuditFacts), and the AuditEvent is built from the row when it is read. Stored as a resource, each
 * access cost a current row and a history row of 1.3 KB of JSON and nine search index rows, some thirty B-tree
 * insertions: ~75 us of database work an access, a third of a read by id (issue 23 asks for reads and writes with
 * auth and audit at >= 90% of their speed without). A row here is ~150 bytes and five B-tree insertions.
 *
 * What this changes for a client, and nothing else: AuditEvents are read (read, vread of version 1, the instance's
 * history) and searched as before, by the R4 parameters an auditor asks with (see AUDIT_PARAMETERS), with paging,
 * `_sort`, `_total` and `_summary=count`; they are not in type or system history (they record accesses, not
 * changes), not in a search across types, `_include`, `_revinclude`, `_has` or chains, and not in Bulk export: each
 * of those names AuditEvent is a 400 saying so, never a silent empty answer. profiles/README.md §14 says the same.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { AuditEvent, OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Queryer, ResourceRow } from '../storage/store.js';
import type { SearchQuery, SearchResult } from '../search/types.js';
import { fragments, join, raw, sql, type Sql } from '../sql/sql.js';
import { badRequest } from '../fhir/outcomes.js';
import { dateRange, invalid, splitEscaped, splitPrefix, splitSystem, unescape, clampTime } from '../search/values.js';
import { rangeCondition } from '../search/params/date.js';
import { isValidId, newId, nextTimestamp, stamp } from '../repo/meta.js';
import { AuditJson, CLIENT_SYSTEM, EVENT_TYPE, factsOf, OBJECT_ROLE, SUBTYPE_SYSTEM, type AuditColumns } from './audit-event.js';

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
function insertAuditRows(rows: readonly AuditRow[]): Sql {
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

interface StoredAudit extends Omit<AuditColumns, 'recorded' | 'status'> {
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
function toResourceRow(row: StoredAudit): ResourceRow {
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
const REFERENCE_OF = /^([A-Z][A-Za-z]+\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

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

/**
 * The R4 AuditEvent search parameters served (R4 auditevent.html#search), with the columns they read. `agent` is
 * searched by identifier (`agent:identifier`, the client id in the urn:stride:client system): the client is named by
 * its identifier, not by a reference. Other R4 parameters (agent-name, agent-role, altid, entity-name, entity-type,
 * policy, site, source) are unknown here, under the client's `Prefer: handling` as for any unknown parameter.
 */
export const AUDIT_PARAMETERS = ['_id', '_lastUpdated', 'date', 'type', 'subtype', 'action', 'outcome', 'agent', 'entity', 'entity-role', 'patient', 'address'] as const;

const SORTS: Record<string, Sql> = {
  date: raw('recorded, id'),
  '-date': raw('recorded DESC, id DESC'),
  _lastUpdated: raw('last_updated, id'),
  '-_lastUpdated': raw('last_updated DESC, id DESC'),
  _id: raw('id'),
  '-_id': raw('id DESC'),
};

/** The parameters that other searches use to reach into AuditEvents, and which the audit trail does not serve. */
const NOT_SERVED = ['_include', '_revinclude'];

function refused(name: string, what: string): OperationOutcomeError {
  return new OperationOutcomeError(badRequest(`AuditEvents are kept in Stride's audit trail, searched by themselves: ${what} is not served for them`, name));
}

/**
 * What a reference search value names: `Type/id` (with or without `/_history/n`; an absolute URL only under this
 * server's base, as for any reference search), or a bare id of any type; undefined when it names nothing here.
 */
function targetOf(value: string, baseUrl: string | undefined): { type?: string; id: string } | undefined {
  let text = unescape(value);
  if (/^[a-z][a-z0-9+.-]*:/i.test(text)) {
    const base = baseUrl?.replace(/\/+$/, '');
    if (!base || !text.startsWith(`${base}/`)) return undefined;
    text = text.slice(base.length + 1);
  }
  const m = /^([A-Z][A-Za-z]{0,63})\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/.exec(text);
  if (m) return { type: m[1], id: m[2] };
  return /^[A-Za-z0-9\-.]{1,64}$/.test(text) ? { id: text } : undefined;
}

/** A `Type/id` column naming the target; a bare id matches any type, case-sensitively on both engines (not LIKE's way). */
function refIs(column: Sql, target: { type?: string; id: string }): Sql {
  if (target.type) return sql`${column} = ${`${target.type}/${target.id}`}`;
  const suffix = `/${target.id}`;
  return sql`(${column} LIKE ${`%${suffix}`} AND substr(${column}, length(${column}) - ${suffix.length - 1}) = ${suffix})`;
}

/** An event naming the target as its resource, as one of the further resources of a bot failure, or as its patient. */
function entityIs(target: { type?: string; id: string }): Sql {
  const patient = target.type === undefined || target.type === 'Patient' ? sql` OR patient = ${target.id}` : raw('');
  return sql`(${refIs(raw('entity_ref'), target)}${patient} OR id IN (SELECT e.id FROM audit_event_entity e WHERE ${refIs(raw('e.entity_ref'), target)}))`;
}

/** The events in a patient's compartment (R4 AuditEvent `patient`: an agent or an entity that is the Patient). */
function patientIs(id: string): Sql {
  return entityIs({ type: 'Patient', id });
}

/**
 * A token's values against a code column and the column of its system: an access's systems are fixed (NULL in the
 * column means the default given); an event kept whole (a bot's failure) has its own.
 */
function tokens(name: string, values: readonly string[], code: Sql, system: Sql, defaultSystem: string): Sql {
  const parts = values.map((v) => {
    const t = splitSystem(v);
    if (t.code === '') throw invalid(name, 'a token needs a code');
    return t.system === undefined ? sql`${code} = ${t.code}` : sql`(${code} = ${t.code} AND COALESCE(${system}, ${defaultSystem}) = ${t.system})`;
  });
  return sql`(${join(parts, ' OR ')})`;
}

/** Whether a token value `[system|]code` names `code` in `system` (a value's system, when given, must be the same). */
function tokenIs(value: string, system: string | undefined, code: string): boolean {
  const t = splitSystem(value);
  if (t.code !== code) return false;
  return t.system === undefined || t.system === (system ?? '');
}

function dateMatch(name: string, column: Sql, value: string): Sql {
  const { prefix, rest } = splitPrefix(value);
  const range = dateRange(rest);
  if (!range) throw invalid(name, `"${value}" is not a date: use [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|+hh:mm]]]]`);
  const approx = (): [number, number] => {
    const gap = Math.max(Math.abs(Date.now() - range.low) * 0.1, 86_400_000);
    return [clampTime(range.low - gap), clampTime(range.high + gap)];
  };
  return rangeCondition(column, column, prefix, range.low, range.high, approx);
}

/** One `name[:modifier]=a,b`: its condition (the values ORed), or undefined for a parameter not served. */
function condition(key: string, value: string, baseUrl: string | undefined): Sql | undefined {
  const [name, modifier, ...more] = key.split(':');
  if (more.length > 0) return undefined;
  const values = splitEscaped(value, ',');
  const any = (f: (v: string) => Sql): Sql => sql`(${join(values.map(f), ' OR ')})`;
  const plain = (): void => {
    if (modifier !== undefined) throw invalid(key, `the :${modifier} modifier is not supported on AuditEvent's ${name}`);
  };
  switch (name) {
    case '_id':
      plain();
      return sql`id IN (${join(values.map((v) => sql`${unescape(v)}`), ', ')})`;
    case '_lastUpdated':
      plain();
      return any((v) => dateMatch(key, raw('last_updated'), v));
    case 'date':
      plain();
      return any((v) => dateMatch(key, raw('recorded'), v));
    case 'type':
      plain();
      return values.some((v) => tokenIs(v, EVENT_TYPE, 'rest')) ? raw('1 = 1') : raw('1 = 0');
    case 'subtype':
      plain();
      return tokens(key, values, raw('subtype'), raw('subtype_system'), SUBTYPE_SYSTEM);
    case 'action':
      plain();
      return tokens(key, values, raw('action'), raw('NULL'), '');
    case 'outcome':
      plain();
      return tokens(key, values, raw('outcome'), raw('NULL'), '');
    case 'agent':
      // The client is the agent's identifier, never a reference: `agent=...` matches nothing, as it would stored.
      if (modifier === undefined) return raw('1 = 0');
      if (modifier !== 'identifier') throw invalid(key, `the :${modifier} modifier is not supported on AuditEvent's agent (use agent:identifier)`);
      return tokens(key, values, raw('client_id'), raw('agent_system'), CLIENT_SYSTEM);
    case 'entity':
      plain();
      return any((v) => {
        const target = targetOf(v, baseUrl);
        return target ? entityIs(target) : raw('1 = 0');
      });
    case 'patient':
      plain();
      return any((v) => {
        const target = targetOf(v, baseUrl);
        return target && (target.type === undefined || target.type === 'Patient') ? patientIs(target.id) : raw('1 = 0');
      });
    case 'entity-role':
      plain();
      return any((v) => {
        const parts: Sql[] = [];
        if (tokenIs(v, OBJECT_ROLE, '24')) parts.push(raw("entity_kind = 'q'"));
        if (tokenIs(v, OBJECT_ROLE, '4')) parts.push(raw("entity_kind = 'r'"));
        if (tokenIs(v, OBJECT_ROLE, '1')) parts.push(raw('patient IS NOT NULL'));
        return parts.length ? sql`(${join(parts, ' OR ')})` : raw('1 = 0');
      });
    case 'address': {
      // A string parameter (R4: agent.network.address): starts with, ignoring case; :exact the whole value.
      if (modifier !== undefined && modifier !== 'exact') throw invalid(key, `the :${modifier} modifier is not supported on AuditEvent's address`);
      return any((v) => (modifier === 'exact' ? sql`address = ${unescape(v)}` : sql`LOWER(address) LIKE ${`${unescape(v).toLowerCase().replace(/[\\%_]/g, '\\$&')}%`} ESCAPE '\\'`));
    }
    default:
      return undefined;
  }
}

const RESULT = new Set(['_count', '_offset', '_total', '_summary', '_elements', '_format', '_pretty', '_sort']);

/**
 * A search of the audit trail. The query's paging, total and access (a patient-scoped client sees only the events of
 * its patient: the R4 Patient compartment's AuditEvent parameter, `patient`) are those of any search.
 */
export async function searchAuditEvents(db: Queryer, query: SearchQuery): Promise<SearchResult> {
  const where: Sql[] = [];
  const unknown: string[] = [];
  for (const [key, values] of Object.entries(query.params)) {
    const name = key.split(':')[0];
    if (RESULT.has(name)) continue;
    if (NOT_SERVED.includes(name) || name === '_has' || key.includes('.')) throw refused(key, name === '_has' || key.includes('.') ? 'a chain or _has' : name);
    if (name === '_cursor') throw invalid(key, 'AuditEvent pages are addressed by _offset');
    for (const value of values) {
      if (value === '') continue;
      const c = condition(key, value, query.baseUrl);
      if (!c) {
        if (!unknown.includes(key)) unknown.push(key);
        break;
      }
      where.push(c);
    }
  }
  const issues: OperationOutcomeIssue[] = [];
  if (unknown.length) {
    const text = `Not a search parameter Stride serves for AuditEvent: ${unknown.join(', ')} (served: ${AUDIT_PARAMETERS.join(', ')}, agent as agent:identifier)`;
    if (query.strict) throw new OperationOutcomeError(badRequest(text, unknown[0]));
    issues.push({ severity: 'warning', code: 'not-supported', diagnostics: `${text}; ignored` });
  }
  const patient = query.access?.patient ?? (query.compartment?.type === 'Patient' ? query.compartment.id : undefined);
  if (query.compartment && query.compartment.type !== 'Patient') throw refused('compartment', `the ${query.compartment.type} compartment`);
  if (patient !== undefined) where.push(patientIs(patient));
  const sortValues = (query.params._sort ?? []).flatMap((v) => v.split(',')).map((v) => v.trim()).filter(Boolean);
  if (sortValues.length > 1 || (sortValues.length === 1 && !SORTS[sortValues[0]])) {
    throw invalid('_sort', `AuditEvents sort by one of ${Object.keys(SORTS).join(', ')}`);
  }
  const order = SORTS[sortValues[0] ?? '_id'];
  const filter = where.length ? sql`WHERE ${join(where, ' AND ')}` : raw('');
  const total = query.total === 'none' ? undefined : Number((await db.get<{ n: number | string }>(sql`SELECT COUNT(*) AS n FROM audit_event ${filter}`))?.n ?? 0);
  const rows = query.count === 0 ? [] : await db.all<StoredAudit>(sql`SELECT * FROM audit_event ${filter} ORDER BY ${order} LIMIT ${query.count + 1} OFFSET ${query.offset}`);
  const more = rows.length > query.count;
  const page = (more ? rows.slice(0, query.count) : rows).map(toResourceRow);
  return {
    rows: page,
    ...(total !== undefined ? { total } : {}),
    ...(more ? { next: { _offset: [String(query.offset + query.count)] } } : {}),
    ...(query.offset > 0 && query.count > 0 ? { previous: { _offset: [String(Math.max(0, query.offset - query.count))] } } : {}),
    ...(issues.length ? { issues } : {}),
  };
}

/** A search of other types that would reach AuditEvents (through `_type`, `_include`, `_revinclude`, `_has`, a chain): a 400. */
export function refuseAuditReach(query: SearchQuery): void {
  if (query.types?.includes(AUDIT_TYPE)) throw refused('_type', 'a search across types');
  for (const [key, values] of Object.entries(query.params)) {
    if (key.startsWith('_has:AuditEvent:') || key.includes(':AuditEvent.') || key.includes(':AuditEvent:')) throw refused(key, 'a chain or _has');
    if ((key.startsWith('_include') || key.startsWith('_revinclude')) && values.some((v) => v.split(':')[0] === AUDIT_TYPE || v.split(':')[2] === AUDIT_TYPE)) {
      throw refused(key, key.split(':')[0]);
    }
  }
}

/** What a stored AuditEvent resource of the access shape (toAuditEvent's) states, for moving it into the table. */
function legacyRow(id: string, lastUpdated: number, event: AuditEvent): AuditRow | undefined {
  if (event.subtype?.[0]?.system !== SUBTYPE_SYSTEM || !event.subtype[0].code) return undefined;
  const status = /^HTTP (\d{3})$/.exec(event.outcomeDesc ?? '')?.[1];
  const recorded = Date.parse(event.recorded ?? '');
  if (Number.isNaN(recorded) || !event.action || !event.outcome || !status) return undefined;
  const requestor = event.agent?.find((a) => a.requestor);
  const columns: AuditColumns = {
    recorded,
    subtype: event.subtype[0].code,
    action: event.action,
    outcome: event.outcome,
    status: Number(status),
    client_id: requestor?.who?.identifier?.value ?? null,
    address: requestor?.network?.address ?? null,
    entity_kind: '-',
    entity_ref: null,
    entity_text: null,
    query: null,
    patient: null,
  };
  for (const e of event.entity ?? []) {
    const role = e.role?.code;
    if (role === '24') Object.assign(columns, { entity_kind: 'q', entity_text: e.description ?? null, query: Buffer.from(e.query ?? '', 'base64').toString('utf8') });
    else if (role === '4' && e.what?.reference) {
      // One whose path was no FHIR Type/id (an earlier Stride took any) keeps it as text: the column holds Type/id.
      const ref = REFERENCE_OF.exec(e.what.reference)?.[1];
      Object.assign(columns, ref ? { entity_kind: 'r', entity_ref: ref } : { entity_kind: 'o', entity_text: e.what.reference });
    }
    else if (role === '1' && e.what?.reference?.startsWith('Patient/')) columns.patient = e.what.reference.slice('Patient/'.length, 'Patient/'.length + 64);
    else if (!e.role && e.description) Object.assign(columns, { entity_kind: 'o', entity_text: e.description });
  }
  return { id, lastUpdated, columns };
}

/**
 * Migration 13's data step: AuditEvents written as resources (before the audit trail had its table) move into it, a
 * page at a time, with their ids, and their resource, history and index rows go. An access's becomes a row of facts;
 * any other (a bot's failure) is kept whole. None is lost: one whose JSON does not parse (none should: Stride wrote
 * them all) stays where it was.
 */
export async function moveStoredAuditEvents(tx: Queryer): Promise<{ moved: number; kept: number }> {
  let moved = 0;
  let kept = 0;
  let after = '';
  for (;;) {
    const page = await tx.all<{ id: string; last_updated: number | string; content: string }>(
      sql`SELECT id, last_updated, content FROM resource WHERE resource_type = ${AUDIT_TYPE} AND deleted = 0 AND id > ${after} ORDER BY id LIMIT 200`,
    );
    if (page.length === 0) break;
    after = page[page.length - 1].id;
    const rows: AuditRow[] = [];
    const ids: Sql[] = [];
    for (const r of page) {
      let event: AuditEvent;
      try {
        event = JSON.parse(r.content) as AuditEvent;
      } catch {
        kept++;
        continue;
      }
      const row = legacyRow(r.id, Number(r.last_updated), event);
      if (row) rows.push(row);
      else await insertOwnAuditEvent(tx, event, { id: r.id, lastUpdated: Number(r.last_updated), json: r.content });
      ids.push(sql`${r.id}`);
    }
    if (ids.length === 0) continue;
    if (rows.length > 0) await tx.run(insertAuditRows(rows));
    for (const table of ['resource', 'resource_history', ...INDEX_TABLES]) await tx.run(sql`DELETE FROM ${raw(table)} WHERE resource_type = ${AUDIT_TYPE} AND id IN (${join(ids, ', ')})`);
    moved += ids.length;
  }
  return { moved, kept };
}

const INDEX_TABLES = ['search_token', 'search_string', 'search_reference', 'search_date', 'search_number', 'search_quantity', 'search_uri', 'search_composite'];
