/**
 * Migration 13's data step (src/storage/schema.ts): AuditEvents an earlier Stride stored as resources move into the
 * audit trail's table (audit-store.ts).
 */
import type { AuditEvent } from '@medplum/fhirtypes';
import type { Queryer } from '../storage/store.js';
import { join, raw, sql, type Sql } from '../sql/sql.js';
import { SUBTYPE_SYSTEM, type AuditColumns } from './audit-event.js';
import { AUDIT_TYPE, insertAuditRows, insertOwnAuditEvent, REFERENCE_OF, type AuditRow } from './audit-store.js';

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
