/**
 * The AuditEvent index rows written directly (src/auth/audit-event.ts auditIndexRows) are the rows the search indexer
 * extracts with each parameter's FHIRPath, for every parameter they cover: a search by them finds the same events.
 */
import { expect, it } from 'vitest';
import { auditIndexRows, toAuditEvent, type AccessRecord } from '../../src/auth/audit-event.js';
import { createIndexer } from '../../src/search/indexer.js';
import { sqliteDialect } from '../../src/storage/sqlite/dialect.js';

const records: AccessRecord[] = [
  { time: Date.parse('2026-12-07T10:00:00Z'), method: 'GET', path: 'Patient/p1', query: '', status: 200, clientId: 'c1', address: '10.0.0.1', requestId: 'r1' },
  { time: Date.parse('2026-12-07T10:00:01Z'), method: 'GET', path: 'Observation', query: 'code=x', status: 403, clientId: 'c2', patient: 'p9', requestId: 'r2' },
  { time: Date.parse('2026-12-07T10:00:02Z'), method: 'POST', path: 'Observation', query: '', status: 401, requestId: 'r3' },
  { time: Date.parse('2026-12-07T10:00:03Z'), method: 'DELETE', path: 'Claim/c7', query: '', status: 204, clientId: 'c1', requestId: 'r4' },
];

it('writes the rows the indexer would, for the parameters it covers', () => {
  const indexer = createIndexer(sqliteDialect);
  for (const r of records) {
    const event = { ...toAuditEvent(r, 'Stride'), id: 'a1' };
    const given = auditIndexRows(event);
    const extracted = indexer.extract(event);
    const covered = new Set([...given.rows.values()].flat().map((row) => row[0]));
    for (const table of ['token', 'reference', 'date'] as const) {
      const mine = (given.rows.get(table) ?? []).map((row) => JSON.stringify(row)).sort();
      const theirs = (extracted.rows.get(table) ?? []).filter((row) => covered.has(row[0])).map((row) => JSON.stringify(row)).sort();
      expect(mine, `${table} rows of ${r.method} ${r.path}`).toEqual(theirs);
    }
  }
});
