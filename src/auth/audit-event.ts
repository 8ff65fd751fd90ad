/**
 * An access as an R4 AuditEvent in the shapes of IHE Basic Audit Log Patterns (BALP 1.1, https://profiles.ihe.net/ITI/BALP/:
 * Create, Read, Update, Delete, Query, and the Patient* variants with the patient as an entity): type `rest` with the
 * RESTful interaction as subtype, the client as the Source Role ID agent (DICOM 110153) and Stride as the Destination
 * Role ID (110152), the resource (role 4, domain resource) or the query (role 24, the query base64-encoded) as entity.
 */
import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';

export interface AccessRecord {
  /** Epoch ms. */
  time: number;
  method: string;
  /** Path below the FHIR base, without the query. */
  path: string;
  /** The query string, without `?`. */
  query: string;
  status: number;
  clientId?: string;
  patient?: string;
  /** The caller's network address. */
  address?: string;
  requestId: string;
}

const DCM = 'http://dicom.nema.org/resources/ontology/DCM';
const ENTITY_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-entity-type';
export const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';
export const CLIENT_SYSTEM = 'urn:stride:client';
export const EVENT_TYPE = 'http://terminology.hl7.org/CodeSystem/audit-event-type';
export const SUBTYPE_SYSTEM = 'http://hl7.org/fhir/restful-interaction';

interface Interaction {
  code: string;
  action: AuditEvent['action'];
}

/** The RESTful interaction (R4 valueset-type-restful-interaction) and the action (C, R, U, D, E) of a request. */
export function interactionOf(method: string, path: string, query: string): Interaction {
  const parts = path === '' ? [] : path.split('/');
  const op = parts.find((p) => p.startsWith('$'));
  if (op) return { code: 'operation', action: 'E' };
  const history = parts.includes('_history');
  if (method === 'GET' || method === 'HEAD') {
    if (parts.length === 0) return { code: path === '' && query === '' ? 'capabilities' : 'search-system', action: 'E' };
    if (parts[0] === 'metadata') return { code: 'capabilities', action: 'R' };
    if (history) return parts.length === 4 ? { code: 'vread', action: 'R' } : { code: parts.length === 1 ? 'history-system' : parts.length === 2 ? 'history-type' : 'history-instance', action: 'R' };
    return parts.length === 2 ? { code: 'read', action: 'R' } : { code: 'search-type', action: 'E' };
  }
  if (method === 'POST') {
    if (parts.length === 0) return { code: 'transaction', action: 'E' };
    return parts[1] === '_search' ? { code: 'search-type', action: 'E' } : { code: 'create', action: 'C' };
  }
  if (method === 'DELETE') return { code: 'delete', action: 'D' };
  return { code: method === 'PATCH' ? 'patch' : 'update', action: 'U' };
}

/** R4 audit-event-outcome: 0 success, 4 minor failure (the client's), 8 serious failure (the server's). */
function outcomeOf(status: number): AuditEvent['outcome'] {
  return status < 400 ? '0' : status < 500 ? '4' : '8';
}

/** What the server stamps on a stored AuditEvent: its id and version 1's lastUpdated (epoch ms). */
export interface AuditStamp {
  id: string;
  lastUpdated: number;
}

/** What an access's AuditEvent says, every value a string: what varies from one event to the next. */
export interface AuditFacts {
  subtype: string;
  action: NonNullable<AuditEvent['action']>;
  recorded: string;
  outcome: NonNullable<AuditEvent['outcome']>;
  outcomeDesc: string;
  /** The client, when the request had a valid token. */
  clientId?: string;
  address?: string;
  /**
   * A query (search, history of a type or system): its path below the base, if any, and the query string
   * base64-encoded, if there is one (an empty string is no FHIR value: R4 ele-1).
   */
  query?: { description?: string; base64?: string };
  /** The resource read or written, `Type/id`. */
  resource?: string;
  /** Anything else (an operation, a Bundle): `METHOD path`. */
  other?: string;
  /** The patient of a patient-scoped client, `Patient/id`. */
  patient?: string;
}

/**
 * An access as the audit trail stores it (src/auth/audit-store.ts, a column each): what its AuditEvent states,
 * in the plainest form (epoch ms, the raw query string, ids), built on the request's path for every access.
 */
export interface AuditColumns {
  recorded: number;
  subtype: string;
  action: string;
  outcome: string;
  /** The HTTP status; null for an event of Stride's own that is not an access. */
  status: number | null;
  client_id: string | null;
  address: string | null;
  /** 'q' a query, 'r' a resource, 'o' anything else (an operation, a Bundle), '-' nothing; 'x' an event kept whole. */
  entity_kind: string;
  /** `Type/id` of the resource ('r'). */
  entity_ref: string | null;
  /** The query's path below the base ('q', null for the base itself), or `METHOD path` ('o'). */
  entity_text: string | null;
  /** The raw query string ('q'). */
  query: string | null;
  /** The id of a patient-scoped client's patient. */
  patient: string | null;
}

const RESOURCE_TYPE = /^[A-Z][A-Za-z]{0,63}$/;
const RESOURCE_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function accessColumns(r: AccessRecord): AuditColumns {
  const interaction = interactionOf(r.method, r.path, r.query);
  const [type, id] = r.path.split('/');
  const isQuery = interaction.code.startsWith('search') || (interaction.code.startsWith('history-') && interaction.code !== 'history-instance');
  // A resource is named when the path names one the way FHIR can (a type, an R4 id); any other path is kept as text.
  const isResource = !isQuery && id !== undefined && RESOURCE_TYPE.test(type) && RESOURCE_ID.test(id);
  return {
    recorded: r.time,
    subtype: interaction.code,
    action: interaction.action!,
    outcome: outcomeOf(r.status)!,
    status: r.status,
    client_id: r.clientId || null,
    address: r.address ? r.address.slice(0, 256) : null,
    entity_kind: isQuery ? 'q' : isResource ? 'r' : r.path ? 'o' : '-',
    entity_ref: isResource ? `${type}/${id}` : null,
    entity_text: isQuery ? r.path || null : isResource || !r.path ? null : `${r.method} ${r.path}`,
    query: isQuery ? r.query : null,
    patient: r.patient || null,
  };
}

/** What the event of stored columns says. */
export function factsOf(c: AuditColumns): AuditFacts {
  const facts: AuditFacts = {
    subtype: c.subtype,
    action: c.action as AuditFacts['action'],
    recorded: new Date(c.recorded).toISOString(),
    outcome: c.outcome as AuditFacts['outcome'],
    outcomeDesc: `HTTP ${c.status}`,
  };
  if (c.client_id !== null) facts.clientId = c.client_id;
  if (c.address !== null) facts.address = c.address;
  if (c.entity_kind === 'q') facts.query = { ...(c.entity_text !== null ? { description: c.entity_text } : {}), ...(c.query ? { base64: Buffer.from(c.query).toString('base64') } : {}) };
  else if (c.entity_kind === 'r' && c.entity_ref !== null) facts.resource = c.entity_ref;
  else if (c.entity_kind === 'o' && c.entity_text !== null) facts.other = c.entity_text;
  if (c.patient !== null) facts.patient = `Patient/${c.patient}`;
  return facts;
}

const SYSTEM_OBJECT = { system: ENTITY_TYPE, code: '2', display: 'System Object' };

/**
 * The AuditEvent of an access. Given its stamp, the event comes out as it is stored (resourceType, id, meta first, as
 * repo/meta.ts stamp() orders them), so that it is serialised once, without a copy.
 */
export function toAuditEvent(r: AccessRecord, serverName: string, stored?: AuditStamp): AuditEvent {
  return auditEventOf(factsOf(accessColumns(r)), serverName, stored && { id: stored.id, lastUpdated: new Date(stored.lastUpdated).toISOString() });
}

function auditEventOf(f: AuditFacts, serverName: string, stored?: { id: string; lastUpdated: string }): AuditEvent {
  const entity: AuditEventEntity[] = [];
  if (f.query) entity.push({ type: SYSTEM_OBJECT, role: { system: OBJECT_ROLE, code: '24', display: 'Query' }, description: f.query.description, query: f.query.base64 });
  else if (f.resource) entity.push({ what: { reference: f.resource }, type: SYSTEM_OBJECT, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } });
  else if (f.other) entity.push({ type: SYSTEM_OBJECT, description: f.other });
  if (f.patient) entity.push({ what: { reference: f.patient }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } });
  return {
    resourceType: 'AuditEvent',
    ...(stored ? { id: stored.id, meta: { versionId: '1', lastUpdated: stored.lastUpdated } } : {}),
    type: { system: EVENT_TYPE, code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: SUBTYPE_SYSTEM, code: f.subtype }],
    action: f.action,
    recorded: f.recorded,
    outcome: f.outcome,
    outcomeDesc: f.outcomeDesc,
    agent: [
      {
        type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
        who: f.clientId ? { identifier: { system: CLIENT_SYSTEM, value: f.clientId } } : { display: 'no valid access token' },
        requestor: true,
        ...(f.address ? { network: { address: f.address, type: '2' as const } } : {}),
      },
      { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: serverName }, requestor: false },
    ],
    source: { observer: { display: serverName }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    ...(entity.length ? { entity } : {}),
  };
}

/**
 * The stored JSON of an access's AuditEvent, as JSON.stringify(toAuditEvent(access, serverName, stamp)) gives it,
 * at a tenth of its cost (it ran on the event loop for every access): the event's text is fixed but for its string
 * values, so the JSON of each shape (which optional parts are present) is built once by toAuditEvent itself, from
 * facts whose every value is a placeholder, and cut at the placeholders; an event is then that text with its values
 * put in. There is one definition of the event (auditEventOf), not a second hand-written serialiser.
 */
export class AuditJson {
  private readonly templates = new Map<string, { parts: string[]; slots: number[] }>();

  constructor(private readonly serverName: string) {}

  render(facts: AuditFacts, stamp: AuditStamp): string {
    const values = [stamp.id, new Date(stamp.lastUpdated).toISOString(), ...factValues(facts)];
    const key = shapeOf(facts);
    let template = this.templates.get(key);
    if (!template) this.templates.set(key, (template = this.compile(facts)));
    let out = template.parts[0];
    for (let i = 0; i < template.slots.length; i++) out += JSON.stringify(values[template.slots[i]]) + template.parts[i + 1];
    return out;
  }

  private compile(facts: AuditFacts): { parts: string[]; slots: number[] } {
    let n = 2;
    const slot = (): string => `@@stride-slot-${n++}@@`;
    const placeholders = placeholderFacts(facts, slot);
    const text = JSON.stringify(auditEventOf(placeholders, this.serverName, { id: '@@stride-slot-0@@', lastUpdated: '@@stride-slot-1@@' }));
    const parts: string[] = [];
    const slots: number[] = [];
    let at = 0;
    for (const m of text.matchAll(/"@@stride-slot-(\d+)@@"/g)) {
      parts.push(text.slice(at, m.index));
      slots.push(Number(m[1]));
      at = m.index! + m[0].length;
    }
    parts.push(text.slice(at));
    return { parts, slots };
  }
}

/** Which optional parts an event has: events of one shape differ only in their string values. */
function shapeOf(f: AuditFacts): string {
  const query = f.query ? `q${f.query.description === undefined ? 0 : 1}${f.query.base64 === undefined ? 0 : 1}` : '';
  return `${f.clientId === undefined ? 0 : 1}${f.address === undefined ? 0 : 1}${query || (f.resource !== undefined ? 'r' : f.other !== undefined ? 'o' : '-')}${f.patient === undefined ? 0 : 1}`;
}

/** The facts' values in a fixed order (after the stamp's two), the order placeholderFacts numbers them in. */
function factValues(f: AuditFacts): string[] {
  const values = [f.subtype, f.action, f.recorded, f.outcome, f.outcomeDesc];
  if (f.clientId !== undefined) values.push(f.clientId);
  if (f.address !== undefined) values.push(f.address);
  if (f.query) {
    if (f.query.description !== undefined) values.push(f.query.description);
    if (f.query.base64 !== undefined) values.push(f.query.base64);
  } else if (f.resource !== undefined) values.push(f.resource);
  else if (f.other !== undefined) values.push(f.other);
  if (f.patient !== undefined) values.push(f.patient);
  return values;
}

function placeholderFacts(f: AuditFacts, slot: () => string): AuditFacts {
  const p = { subtype: slot(), action: slot(), recorded: slot(), outcome: slot(), outcomeDesc: slot() } as AuditFacts;
  if (f.clientId !== undefined) p.clientId = slot();
  if (f.address !== undefined) p.address = slot();
  if (f.query) {
    const description = f.query.description !== undefined ? slot() : undefined;
    const base64 = f.query.base64 !== undefined ? slot() : undefined;
    p.query = { ...(description !== undefined ? { description } : {}), ...(base64 !== undefined ? { base64 } : {}) };
  } else if (f.resource !== undefined) p.resource = slot();
  else if (f.other !== undefined) p.other = slot();
  if (f.patient !== undefined) p.patient = slot();
  return p;
}
