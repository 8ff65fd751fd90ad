/**
 * Searches of the audit trail's table (audit-store.ts): the R4 AuditEvent parameters it serves, as SQL on its
 * columns, and the refusal of every other search that would reach AuditEvents. test/auth/audit-store.test.ts checks
 * that each finds what the generic search engine finds over the same events stored as resources.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import type { Queryer } from '../storage/store.js';
import type { SearchQuery, SearchResult } from '../search/types.js';
import { join, raw, sql, type Sql } from '../sql/sql.js';
import { badRequest } from '../fhir/outcomes.js';
import { invalid, splitEscaped, splitSystem, unescape } from '../search/values.js';
import { dateCondition } from '../search/params/date.js';
import { CLIENT_SYSTEM, EVENT_TYPE, OBJECT_ROLE, SUBTYPE_SYSTEM } from './audit-event.js';
import { AUDIT_TYPE, toResourceRow, type StoredAudit } from './audit-store.js';

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
  return dateCondition(name, value)(column, column);
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
