/**
 * An access as an R4 AuditEvent in the shapes of IHE Basic Audit Log Patterns (BALP 1.1, https://profiles.ihe.net/ITI/BALP/:
 * Create, Read, Update, Delete, Query, and the Patient* variants with the patient as an entity): type `rest` with the
 * RESTful interaction as subtype, the client as the Source Role ID agent (DICOM 110153) and Stride as the Destination
 * Role ID (110152), the resource (role 4, domain resource) or the query (role 24, the query base64-encoded) as entity.
 */
import type { AuditEvent, AuditEventEntity } from '@medplum/fhirtypes';
import { IndexRows } from '../search/tables.js';
import { addToken } from '../search/params/token.js';
import { IDENTIFIER_SUFFIX } from '../search/params/reference.js';

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
const OBJECT_ROLE = 'http://terminology.hl7.org/CodeSystem/object-role';

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

/**
 * The AuditEvent of an access. Given its stamp, the event comes out as it is stored (resourceType, id, meta first, as
 * repo/meta.ts stamp() orders them), so that it is serialised once, without a copy.
 */
export function toAuditEvent(r: AccessRecord, serverName: string, stored?: AuditStamp): AuditEvent {
  const interaction = interactionOf(r.method, r.path, r.query);
  const entity: AuditEventEntity[] = [];
  const parts = r.path.split('/');
  const [type, id] = parts;
  const isQuery = interaction.code.startsWith('search') || interaction.code.startsWith('history-') && interaction.code !== 'history-instance';
  if (isQuery) {
    entity.push({
      type: { system: ENTITY_TYPE, code: '2', display: 'System Object' },
      role: { system: OBJECT_ROLE, code: '24', display: 'Query' },
      description: r.path || undefined,
      query: Buffer.from(r.query).toString('base64'),
    });
  } else if (type && id && !id.startsWith('$') && !type.startsWith('$') && /^[A-Z]/.test(type)) {
    entity.push({ what: { reference: `${type}/${id}` }, type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, role: { system: OBJECT_ROLE, code: '4', display: 'Domain Resource' } });
  } else if (r.path) {
    entity.push({ type: { system: ENTITY_TYPE, code: '2', display: 'System Object' }, description: `${r.method} ${r.path}` });
  }
  if (r.patient) entity.push({ what: { reference: `Patient/${r.patient}` }, type: { system: ENTITY_TYPE, code: '1', display: 'Person' }, role: { system: OBJECT_ROLE, code: '1', display: 'Patient' } });
  return {
    resourceType: 'AuditEvent',
    ...(stored ? { id: stored.id, meta: { versionId: '1', lastUpdated: new Date(stored.lastUpdated).toISOString() } } : {}),
    type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest', display: 'RESTful Operation' },
    subtype: [{ system: 'http://hl7.org/fhir/restful-interaction', code: interaction.code }],
    action: interaction.action,
    recorded: new Date(r.time).toISOString(),
    outcome: outcomeOf(r.status),
    outcomeDesc: `HTTP ${r.status}`,
    agent: [
      {
        type: { coding: [{ system: DCM, code: '110153', display: 'Source Role ID' }] },
        who: r.clientId ? { identifier: { system: 'urn:stride:client', value: r.clientId } } : { display: 'no valid access token' },
        requestor: true,
        ...(r.address ? { network: { address: r.address, type: '2' as const } } : {}),
      },
      { type: { coding: [{ system: DCM, code: '110152', display: 'Destination Role ID' }] }, who: { display: serverName }, requestor: false },
    ],
    source: { observer: { display: serverName }, type: [{ system: 'http://terminology.hl7.org/CodeSystem/security-source-type', code: '4', display: 'Application Server' }] },
    ...(entity.length ? { entity } : {}),
  };
}

/**
 * The search index rows of an AuditEvent built by toAuditEvent, written directly: what the R4 AuditEvent search
 * parameters (date, type, subtype, action, outcome, agent, entity, entity-role, patient) would extract from that fixed
 * shape, without running each parameter's FHIRPath on every access (that cost more than the access itself). The
 * audit tests search by each of them.
 */
export function auditIndexRows(event: AuditEvent): IndexRows {
  const rows = new IndexRows();
  const token = (param: string, system: string | undefined, code: string | undefined): void => addToken(rows, 'AuditEvent', param, system, code);
  const time = Date.parse(event.recorded);
  rows.add('date', ['date', time, time]);
  token('type', event.type.system, event.type.code);
  for (const s of event.subtype ?? []) token('subtype', s.system, s.code);
  token('action', undefined, event.action);
  token('outcome', undefined, event.outcome);
  for (const agent of event.agent) {
    const id = agent.who?.identifier;
    if (id?.value) token('agent' + IDENTIFIER_SUFFIX, id.system, id.value);
  }
  for (const entity of event.entity ?? []) {
    if (entity.role) token('entity-role', entity.role.system, entity.role.code);
    const m = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(entity.what?.reference ?? '');
    if (!m) continue;
    rows.add('reference', ['entity', m[1], m[2]], `entity\u001f${m[1]}/${m[2]}`);
    if (m[1] === 'Patient') rows.add('reference', ['patient', m[1], m[2]], `patient\u001f${m[1]}/${m[2]}`);
  }
  return rows;
}
