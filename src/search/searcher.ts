/**
 * The indexed searcher (issue 3): parameters -> conditions -> one SQL query over the resource table and the index
 * tables, a page by keyset (or `_offset`), the total the client asked for, then _include/_revinclude.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { badRequest } from '../fhir/outcomes.js';
import { checkRevealed, limitIncluded } from './access.js';
import { join, raw, sql, type Sql } from '../sql/sql.js';
import type { Queryer, ResourceRow } from '../storage/store.js';
import { compartmentParams } from './compartment.js';
import { decodeCursor, encodeCursor, keysetCondition, orderBy, type Cursor, type CursorValue, type KeysetColumn } from './cursor.js';
import { loadIncludes, parseIncludes } from './include.js';
import { parseConditions, type Condition } from './parse.js';
import { buildFilter, type Filter } from './filter.js';
import { Planner } from './plan.js';
import { parseSort, type SortKey } from './sort.js';
import type { Searcher, SearchQuery, SearchResult } from './types.js';

/** `_total=estimate` counts up to this many matches; past it the total is left out rather than guessed. */
const ESTIMATE_CAP = 10_000;

const COLUMNS = 'a.resource_type, a.id, a.version_id, a.last_updated, a.deleted, a.content';

type PageRow = ResourceRow & Record<string, unknown>;

export function createSearcher(): Searcher {
  return { search: (db, query) => search(db, query) };
}

async function search(db: Queryer, query: SearchQuery): Promise<SearchResult> {
  refuseNul(query.params);
  const types = query.types?.length ? [...query.types] : [query.resourceType];
  const issues: OperationOutcomeIssue[] = [];
  const planner = new Planner({ baseUrl: query.baseUrl });
  const filter = await buildFilter(db, planner, types, conditionsByType(types, query, issues));
  const sort = parseSort(types, query.params._sort);
  const includes = parseIncludes(query.params);
  const columns = keyColumns(sort, types.length > 1);
  const cursorText = query.params._cursor?.[0];
  const cursor = cursorText ? decodeCursor(cursorText, columns.length) : undefined;
  const page = query.count > 0 ? await readPage(db, filter.where, sort, columns, query, cursor) : { rows: [], more: false };
  const result: SearchResult = { rows: page.rows, issues };
  Object.assign(result, pageLinks(page.rows, page.more, columns, query, cursor));
  result.total = await countTotal(db, filter, query, cursor, page);
  const included = await loadIncludes(db, includes, page.rows);
  result.included = query.access ? await limitIncluded(db, query.access, included) : included;
  return result;
}

/**
 * No FHIR string holds U+0000 (R4 datatypes.html#string), and PostgreSQL refuses it in any text parameter: a search
 * value with one (`%00` in the URL) is the client's mistake, said as a 400 before any SQL, on both engines.
 */
function refuseNul(params: Record<string, string[]>): void {
  for (const [name, values] of Object.entries(params)) {
    if (name.includes('\u0000') || values.some((v) => v.includes('\u0000'))) {
      throw new OperationOutcomeError(badRequest(`Search parameter ${JSON.stringify(name.replaceAll('\u0000', '%00'))}: a NUL character (%00) cannot be in a search parameter or value`, name.replaceAll('\u0000', '')));
    }
  }
}

function conditionsByType(types: string[], query: SearchQuery, issues: OperationOutcomeIssue[]): Condition[][] {
  const unknown = new Set<string>();
  const perType = types.map((type) => {
    const parsed = parseConditions(type, query.params);
    parsed.unknown.forEach((name) => unknown.add(name));
    if (query.compartment) parsed.conditions.push(compartmentCondition(type, query.compartment));
    if (query.access) {
      checkRevealed(query.access, parsed.conditions);
      if (query.access.patient) parsed.conditions.push(patientLimit(type, query.access.patient));
    }
    return parsed.conditions;
  });
  if (unknown.size > 0) {
    const names = [...unknown].join(', ');
    const where = types.join(', ');
    if (query.strict) throw new OperationOutcomeError(badRequest(`Unknown search parameter(s) for ${where}: ${names} (Prefer: handling=strict)`, [...unknown][0]));
    issues.push({
      severity: 'warning',
      code: 'not-supported',
      details: { text: `Unknown search parameter(s) for ${where} ignored: ${names}` },
      expression: [...unknown],
    });
  }
  return perType;
}

function compartmentCondition(type: string, compartment: { type: string; id: string }): Condition {
  return { kind: 'compartment', params: compartmentParams(compartment.type, type) ?? [], target: compartment };
}

/**
 * A patient-scoped caller's limit: its patient's compartment, where the only Patient is its own (R4 puts a Patient that
 * links to it, Patient.link, in its compartment too: another person's record, not this caller's to see).
 */
function patientLimit(type: string, patient: string): Condition {
  const target = { type: 'Patient', id: patient };
  return type === 'Patient' ? { kind: 'compartment', params: [], target } : compartmentCondition(type, target);
}

/** The sort keys, then id (and type, across types) so that the order is total and a cursor names one row. */
function keyColumns(sort: SortKey[], multiType: boolean): KeysetColumn[] {
  const columns: KeysetColumn[] = sort.map((key, i) => ({ name: `s${i}`, descending: key.descending, nullable: key.nullable }));
  columns.push({ name: 'id', descending: false, nullable: false });
  if (multiType) columns.push({ name: 'resource_type', descending: false, nullable: false });
  return columns;
}

interface Page {
  rows: PageRow[];
  /** More rows exist beyond the page in the direction read. */
  more: boolean;
}

async function readPage(db: Queryer, filter: Sql, sort: SortKey[], columns: KeysetColumn[], query: SearchQuery, cursor?: Cursor): Promise<Page> {
  const sortColumns = join(sort.map((key, i) => sql`, ${key.value('a')} AS ${raw(`s${i}`)}`), '');
  const inner = sql`SELECT ${raw(COLUMNS)}${sortColumns} FROM resource a WHERE ${filter}`;
  const backwards = cursor?.direction === 'p';
  const keyset = cursor ? sql` WHERE ${keysetCondition(columns, cursor)}` : sql``;
  const offset = !cursor && query.offset > 0 ? sql` OFFSET ${query.offset}` : sql``;
  const rows = await db.all<PageRow>(sql`SELECT * FROM (${inner}) q${keyset} ORDER BY ${orderBy(columns, backwards)} LIMIT ${query.count + 1}${offset}`);
  const more = rows.length > query.count;
  const page = rows.slice(0, query.count);
  return { rows: backwards ? page.reverse() : page, more };
}

function cursorOf(row: PageRow, columns: KeysetColumn[], direction: 'n' | 'p'): string {
  const values = columns.map((c) => (row[c.name] ?? null) as CursorValue);
  return encodeCursor({ direction, values });
}

function pageLinks(rows: PageRow[], more: boolean, columns: KeysetColumn[], query: SearchQuery, cursor?: Cursor): Pick<SearchResult, 'next' | 'previous'> {
  if (rows.length === 0) return {};
  if (!cursor && query.offset > 0) {
    return {
      next: more ? { _offset: [String(query.offset + query.count)] } : undefined,
      previous: { _offset: [String(Math.max(0, query.offset - query.count))] },
    };
  }
  const backwards = cursor?.direction === 'p';
  const hasNext = backwards || more;
  const hasPrevious = backwards ? more : cursor !== undefined;
  return {
    next: hasNext ? { _cursor: [cursorOf(rows[rows.length - 1], columns, 'n')] } : undefined,
    previous: hasPrevious ? { _cursor: [cursorOf(rows[0], columns, 'p')] } : undefined,
  };
}

async function countTotal(db: Queryer, filter: Filter, query: SearchQuery, cursor: Cursor | undefined, page: Page): Promise<number | undefined> {
  if (query.total === 'none' && query.count > 0) return undefined;
  // The first page holds every match: its length is the total, no count needed.
  if (!cursor && query.offset === 0 && query.count > 0 && !page.more) return page.rows.length;
  if (filter.total !== undefined) return filter.total;
  if (query.total === 'estimate') {
    const row = await db.get<{ n: number }>(sql`SELECT COUNT(*) AS n FROM (SELECT 1 AS one FROM resource a WHERE ${filter.where} LIMIT ${ESTIMATE_CAP + 1}) c`);
    const n = Number(row?.n ?? 0);
    return n > ESTIMATE_CAP ? undefined : n;
  }
  return Number((await db.get<{ n: number }>(filter.count))?.n ?? 0);
}
