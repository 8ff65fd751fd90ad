/**
 * Checks a ViewDefinition against the SQL on FHIR v2 logical model (StructureDefinition ViewDefinition: its elements,
 * cardinalities and types, the invariants `sql-name` and `sql-expressions`) and the processing model's column rules
 * (ValidateColumns: unique names; unionAll branches with the same columns in the same order). Every problem is an
 * OperationOutcome issue whose `expression` names the element, so a client can fix them all in one go. FHIRPath
 * syntax is checked when the expressions are compiled (compile.ts).
 * Sources: https://sql-on-fhir.org/ig/StructureDefinition-ViewDefinition.html, .../processing_model.html.
 */
import type { OperationOutcomeIssue } from '@medplum/fhirtypes';
import { loadDefinitions } from '../../validation/definitions.js';
import type { ColumnInfo, ViewSelect } from './types.js';

/** Invariant sql-name: names usable as table and column names in most databases. */
export const SQL_NAME = /^[A-Za-z][A-Za-z0-9_]*$/;

/** The value[x] types a constant may have (ViewDefinition.constant.value[x]) and the JSON type each is written as. */
export const CONSTANT_TYPES: Record<string, 'string' | 'boolean' | 'integer' | 'number'> = {
  base64Binary: 'string', boolean: 'boolean', canonical: 'string', code: 'string', date: 'string', dateTime: 'string',
  decimal: 'number', id: 'string', instant: 'string', integer: 'integer', integer64: 'string', oid: 'string',
  string: 'string', positiveInt: 'integer', time: 'string', unsignedInt: 'integer', uri: 'string', url: 'string',
  uuid: 'string',
};

type JsonKind = 'string' | 'boolean' | 'integer' | 'number' | 'object' | 'array';

/** The elements ViewDefinition inherits from CanonicalResource (and DomainResource), with their JSON kinds. */
const CANONICAL_ELEMENTS: Record<string, JsonKind> = {
  id: 'string', meta: 'object', implicitRules: 'string', language: 'string', text: 'object', contained: 'array',
  extension: 'array', modifierExtension: 'array', url: 'string', identifier: 'array', version: 'string',
  versionAlgorithmString: 'string', versionAlgorithmCoding: 'object', name: 'string', title: 'string', status: 'string',
  experimental: 'boolean', date: 'string', publisher: 'string', contact: 'array', description: 'string',
  useContext: 'array', jurisdiction: 'array', purpose: 'string', copyright: 'string', copyrightLabel: 'string',
  profile: 'array', fhirVersion: 'array',
};

const VIEW_ELEMENTS = new Set([...Object.keys(CANONICAL_ELEMENTS), 'resourceType', 'resource', 'constant', 'select', 'where']);
const SELECT_ELEMENTS = new Set(['id', 'extension', 'modifierExtension', 'column', 'select', 'forEach', 'forEachOrNull', 'repeat', 'unionAll']);
const COLUMN_ELEMENTS = new Set(['id', 'extension', 'modifierExtension', 'name', 'path', 'description', 'collection', 'type', 'tag']);
const WHERE_ELEMENTS = new Set(['id', 'extension', 'modifierExtension', 'path', 'description']);
const STATUS = new Set(['draft', 'active', 'retired', 'unknown']);

export class Issues {
  readonly list: OperationOutcomeIssue[] = [];

  add(expression: string, text: string, code: OperationOutcomeIssue['code'] = 'invalid'): void {
    this.list.push({ severity: 'error', code, details: { text: `${expression}: ${text}` }, expression: [expression] });
  }
}

function kindOf(value: unknown): JsonKind | 'null' {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'array';
  if (typeof value === 'number') return Number.isInteger(value) ? 'integer' : 'number';
  return typeof value as JsonKind;
}

function isKind(value: unknown, kind: JsonKind): boolean {
  const actual = kindOf(value);
  return actual === kind || (kind === 'number' && actual === 'integer');
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Unknown members are errors, as a profile's closed structure makes them; `_x` carries extensions of a primitive x. */
function checkMembers(node: Record<string, unknown>, allowed: ReadonlySet<string>, at: string, issues: Issues): void {
  for (const key of Object.keys(node)) {
    const base = key.startsWith('_') ? key.slice(1) : key;
    if (!allowed.has(base)) issues.add(`${at}.${key}`, `unknown element "${key}" (ViewDefinition has ${[...allowed].filter((k) => !['id', 'extension', 'modifierExtension'].includes(k)).join(', ')})`, 'structure');
  }
}

function requireString(node: Record<string, unknown>, key: string, at: string, issues: Issues, required: boolean): string | undefined {
  const value = node[key];
  if (value === undefined) {
    if (required) issues.add(`${at}.${key}`, `${key} is required`, 'required');
    return undefined;
  }
  if (typeof value !== 'string' || value.trim() === '') {
    issues.add(`${at}.${key}`, `${key} must be a non-empty string, got ${JSON.stringify(value)}`, 'value');
    return undefined;
  }
  return value;
}

function arrayOf(node: Record<string, unknown>, key: string, at: string, issues: Issues, min = 0): Array<{ value: unknown; at: string }> {
  const value = node[key];
  if (value === undefined) {
    if (min > 0) issues.add(`${at}.${key}`, `${key} is required (at least ${min})`, 'required');
    return [];
  }
  if (!Array.isArray(value)) {
    issues.add(`${at}.${key}`, `${key} must be an array`, 'structure');
    return [];
  }
  if (value.length < min) issues.add(`${at}.${key}`, `${key} needs at least ${min} item(s)`, 'required');
  return value.map((v, i) => ({ value: v, at: `${at}.${key}[${i}]` }));
}

/**
 * The view's problems (empty when it is valid) and, when there are none, its columns in output order. `stored`:
 * the view is to be stored as a resource, so it must say `resourceType: "ViewDefinition"` and have a status
 * (CanonicalResource.status is 1..1); a view given to the runner alone (a conformance test) may leave both out.
 */
export function checkView(view: unknown, stored = false): { issues: OperationOutcomeIssue[]; columns: ColumnInfo[] } {
  const issues = new Issues();
  const at = 'ViewDefinition';
  if (!isObject(view)) {
    issues.add(at, 'a ViewDefinition must be a JSON object', 'structure');
    return { issues: issues.list, columns: [] };
  }
  if (view.resourceType !== undefined && view.resourceType !== 'ViewDefinition') issues.add(`${at}.resourceType`, `must be "ViewDefinition", got ${JSON.stringify(view.resourceType)}`, 'value');
  if (stored && view.resourceType === undefined) issues.add(`${at}.resourceType`, 'resourceType is required', 'required');
  checkMembers(view, VIEW_ELEMENTS, at, issues);
  for (const [key, kind] of Object.entries(CANONICAL_ELEMENTS)) {
    if (view[key] !== undefined && !isKind(view[key], kind)) issues.add(`${at}.${key}`, `${key} must be ${kind === 'object' ? 'an object' : `a${kind === 'array' ? 'n' : ''} ${kind}`}`, 'structure');
  }
  if (typeof view.name === 'string' && !SQL_NAME.test(view.name)) issues.add(`${at}.name`, `"${view.name}" is not a valid name (sql-name: letters, digits and _, starting with a letter)`, 'invariant');
  if (typeof view.status === 'string' && !STATUS.has(view.status)) issues.add(`${at}.status`, `status must be one of ${[...STATUS].join(', ')}, got "${view.status}"`, 'value');
  if (stored && view.status === undefined) issues.add(`${at}.status`, 'status is required (draft, active, retired or unknown)', 'required');
  const resource = requireString(view, 'resource', at, issues, true);
  if (resource !== undefined && !loadDefinitions().resourceTypeSet.has(resource)) issues.add(`${at}.resource`, `"${resource}" is not a FHIR R4 resource type`, 'value');
  checkConstants(view, at, issues);
  for (const w of arrayOf(view, 'where', at, issues)) {
    if (!isObject(w.value)) issues.add(w.at, 'a where must be an object with a path', 'structure');
    else {
      checkMembers(w.value, WHERE_ELEMENTS, w.at, issues);
      requireString(w.value, 'path', w.at, issues, true);
      if (w.value.description !== undefined && typeof w.value.description !== 'string') issues.add(`${w.at}.description`, 'description must be a string', 'structure');
    }
  }
  const selects = arrayOf(view, 'select', at, issues, 1);
  for (const s of selects) checkSelect(s.value, s.at, issues);
  if (issues.list.length > 0) return { issues: issues.list, columns: [] };
  const columns: ColumnInfo[] = [];
  for (const s of selects) collectColumns(s.value as ViewSelect, s.at, columns, issues);
  return { issues: issues.list, columns };
}

function checkConstants(view: Record<string, unknown>, at: string, issues: Issues): void {
  const names = new Set<string>();
  for (const c of arrayOf(view, 'constant', at, issues)) {
    if (!isObject(c.value)) {
      issues.add(c.at, 'a constant must be an object with a name and a value[x]', 'structure');
      continue;
    }
    const name = requireString(c.value, 'name', c.at, issues, true);
    if (name !== undefined && !SQL_NAME.test(name)) issues.add(`${c.at}.name`, `"${name}" is not a valid constant name (sql-name)`, 'invariant');
    if (name !== undefined && names.has(name)) issues.add(`${c.at}.name`, `constant "${name}" is defined twice`, 'invariant');
    if (name !== undefined) names.add(name);
    const values = Object.keys(c.value).filter((k) => k.startsWith('value'));
    for (const key of Object.keys(c.value)) {
      if (key !== 'name' && key !== 'id' && key !== 'extension' && !key.startsWith('value') && !key.startsWith('_')) issues.add(`${c.at}.${key}`, `unknown element "${key}" in a constant`, 'structure');
    }
    if (values.length !== 1) {
      issues.add(c.at, `a constant needs exactly one value[x] (valueString, valueInteger, valueBoolean, valueDate ...); found ${values.length === 0 ? 'none' : values.join(', ')}`, 'required');
      continue;
    }
    const type = values[0].slice(5, 6).toLowerCase() + values[0].slice(6);
    const kind = CONSTANT_TYPES[type] ?? CONSTANT_TYPES[values[0].slice(5)];
    if (!kind) issues.add(`${c.at}.${values[0]}`, `${values[0]} is not a constant type the model allows (${Object.keys(CONSTANT_TYPES).join(', ')})`, 'value');
    else if (!isKind(c.value[values[0]], kind)) issues.add(`${c.at}.${values[0]}`, `${values[0]} must be a JSON ${kind}`, 'value');
  }
}

function checkSelect(select: unknown, at: string, issues: Issues): void {
  if (!isObject(select)) {
    issues.add(at, 'a select must be an object', 'structure');
    return;
  }
  checkMembers(select, SELECT_ELEMENTS, at, issues);
  // Invariant sql-expressions: at most one of forEach and forEachOrNull (repeat iterates too, so it stands alone).
  const iterators = ['forEach', 'forEachOrNull', 'repeat'].filter((k) => select[k] !== undefined);
  if (iterators.length > 1) issues.add(at, `a select may have only one of forEach, forEachOrNull and repeat; it has ${iterators.join(' and ')}`, 'invariant');
  for (const key of ['forEach', 'forEachOrNull']) if (select[key] !== undefined) requireString(select, key, at, issues, false);
  for (const r of arrayOf(select, 'repeat', at, issues, select.repeat === undefined ? 0 : 1)) {
    if (typeof r.value !== 'string' || r.value.trim() === '') issues.add(r.at, 'a repeat path must be a non-empty FHIRPath string', 'value');
  }
  for (const c of arrayOf(select, 'column', at, issues)) checkColumn(c.value, c.at, issues);
  for (const s of arrayOf(select, 'select', at, issues)) checkSelect(s.value, s.at, issues);
  for (const u of arrayOf(select, 'unionAll', at, issues)) checkSelect(u.value, u.at, issues);
  if (select.column === undefined && select.select === undefined && select.unionAll === undefined) {
    issues.add(at, 'a select needs a column, a select or a unionAll: it produces no columns', 'required');
  }
}

function checkColumn(column: unknown, at: string, issues: Issues): void {
  if (!isObject(column)) {
    issues.add(at, 'a column must be an object with a name and a path', 'structure');
    return;
  }
  checkMembers(column, COLUMN_ELEMENTS, at, issues);
  requireString(column, 'path', at, issues, true);
  const name = requireString(column, 'name', at, issues, true);
  if (name !== undefined && !SQL_NAME.test(name)) issues.add(`${at}.name`, `"${name}" is not a valid column name (sql-name: letters, digits and _, starting with a letter)`, 'invariant');
  if (column.collection !== undefined && typeof column.collection !== 'boolean') issues.add(`${at}.collection`, 'collection must be true or false', 'structure');
  if (column.description !== undefined && typeof column.description !== 'string') issues.add(`${at}.description`, 'description must be a string', 'structure');
  if (column.type !== undefined) requireString(column, 'type', at, issues, false);
  for (const t of arrayOf(column, 'tag', at, issues)) {
    if (!isObject(t.value) || typeof t.value.name !== 'string' || typeof t.value.value !== 'string') issues.add(t.at, 'a tag needs a name and a value, both strings', 'structure');
  }
}

/** ValidateColumns of the processing model: a name once per view; every unionAll branch has the first's columns. */
function collectColumns(select: ViewSelect, at: string, out: ColumnInfo[], issues: Issues): void {
  const add = (c: ColumnInfo, where: string): void => {
    if (out.some((o) => o.name === c.name)) issues.add(where, `column "${c.name}" is already defined: column names must be unique in a view`, 'invariant');
    else out.push(c);
  };
  (select.column ?? []).forEach((c, i) => add({ name: c.name, type: c.type, collection: c.collection === true }, `${at}.column[${i}].name`));
  (select.select ?? []).forEach((s, i) => {
    const nested: ColumnInfo[] = [];
    collectColumns(s, `${at}.select[${i}]`, nested, issues);
    nested.forEach((c) => add(c, `${at}.select[${i}]`));
  });
  const branches = (select.unionAll ?? []).map((u, i) => {
    const cols: ColumnInfo[] = [];
    collectColumns(u, `${at}.unionAll[${i}]`, cols, issues);
    return cols;
  });
  if (branches.length === 0) return;
  const first = branches[0];
  branches.slice(1).forEach((cols, i) => {
    const names = cols.map((c) => c.name).join(', ');
    if (names !== first.map((c) => c.name).join(', ')) {
      issues.add(`${at}.unionAll[${i + 1}]`, `every unionAll branch must have the same columns in the same order: the first has (${first.map((c) => c.name).join(', ')}), this one (${names})`, 'invariant');
    } else {
      cols.forEach((c, j) => {
        if (c.type && first[j].type && c.type !== first[j].type) issues.add(`${at}.unionAll[${i + 1}]`, `column "${c.name}" is ${c.type} here but ${first[j].type} in the first branch`, 'invariant');
      });
    }
  });
  // A type declared in any branch types the union's column.
  first.map((c, j) => ({ ...c, type: c.type ?? branches.find((b) => b[j]?.type)?.[j].type })).forEach((c) => add(c, `${at}.unionAll`));
}
