/**
 * Plan guards (issue 27): for each query shape the search planner writes (each parameter type, chains, _has,
 * _include/_revinclude, _sort, compartments, composites), the access path each engine chooses for every statement
 * the search sends: which index leads, and no full scan of an index table. Small data, deterministic: SQLite plans
 * from the queries' shapes alone (Stride keeps no sqlite_stat1), PostgreSQL from statistics (ANALYZE after the
 * load) with sequential scans priced out (test/support/plans.ts). A change of indexes or of the SQL that loses a
 * plan fails here; the last test drops each guarded index in turn and shows its guard fail.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { Resource } from '@medplum/fhirtypes';
import { describeEachEngine, startTestServer, type TestServer } from '../support/server.js';
import { searchPlans, type Access, type StatementPlan } from '../support/plans.js';
import { raw } from '../../src/sql/sql.js';
import { generatedBundles, referenceBundle } from '../bench/search-data.js';
import { fhir } from '../support/http.js';
import { load } from './support.js';

const MRN = 'urn:stride:mrn';
const LOINC = 'http://loinc.org';
const CPT = 'http://www.ama-assn.org/go/cpt';

/**
 * A query shape, and the index reads its plans must hold: `table:index` (PostgreSQL) or `table:index (key)`
 * (SQLite, whose plan also names the key columns it looks up) on some access, in any statement the search sends.
 */
interface Shape {
  name: string;
  path: string;
  /** Index reads every engine must show: [table, index, SQLite key columns (a prefix of the plan's key)]. */
  uses: Array<[string, string, string?]>;
}

const p = 'bp7';
const SHAPES: Shape[] = [
  { name: 'token: system|code', path: `Patient?identifier=${MRN}|MRN-7`, uses: [['search_token', 'search_token_code', 'code_hash=?']] },
  { name: 'token: code alone', path: 'Observation?code=64098-7&_count=5', uses: [['search_token', 'search_token_code', 'code_hash=?']] },
  { name: 'string: prefix', path: 'Patient?family=Okafor0', uses: [['search_string', 'search_string_1', 'resource_type=? AND param=? AND value>? AND value<?']] },
  { name: 'reference: Type/id', path: `Observation?subject=Patient/${p}`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=? AND resource_type=? AND param=?']] },
  { name: 'date: a day', path: 'Encounter?date=2024-06-03', uses: [['search_date', 'search_date_2', 'resource_type=? AND param=? AND high']] },
  { name: 'number', path: 'RiskAssessment?probability=lt0.2', uses: [['search_number', 'search_number_1', 'resource_type=? AND param=? AND low']] },
  { name: 'quantity', path: `Observation?value-quantity=lt101|http://unitsofmeasure.org|m`, uses: [['search_quantity', 'search_quantity_1', 'resource_type=? AND param=? AND low']] },
  { name: 'uri', path: 'ValueSet?url=http://example.org/fhir/ValueSet/gait', uses: [['search_uri', 'search_uri_1', 'resource_type=? AND param=? AND value=?']] },
  { name: 'composite: code$quantity', path: `Observation?code-value-quantity=${LOINC}|64098-7$gt690`, uses: [['search_composite', 'search_composite_system_code_value', 'c1_system_code_hash=? AND c2_high>?']] },
  { name: 'reference + token + date', path: `Observation?subject=Patient/${p}&code=${LOINC}|41909-3&date=ge2025-01-01`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=?'], ['search_token', 'search_token_resource', 'id=? AND resource_type=?'], ['search_date', 'search_date_resource', 'id=? AND resource_type=?']] },
  { name: 'chain: subject:Patient.identifier', path: `Observation?subject:Patient.identifier=${MRN}|MRN-7&code=${LOINC}|64098-7`, uses: [['search_token', 'search_token_code', 'code_hash=?'], ['search_reference', 'search_reference_1', 'target_type=? AND target_id=? AND resource_type=? AND param=?']] },
  {
    name: '_has: composite inner, beside gender',
    path: `Patient?_has:Observation:subject:code-value-quantity=${LOINC}|64098-7$gt690&gender=female`,
    uses: [['search_composite', 'search_composite_system_code_value', 'c1_system_code_hash=? AND c2_high>?'], ['search_reference', 'search_reference_resource', 'id=? AND resource_type=? AND param=?']],
  },
  {
    name: '_has nested',
    path: `Patient?_has:Encounter:subject:_has:Procedure:encounter:code=${CPT}|97530&_has:Observation:subject:code-value-quantity=${LOINC}|64098-7$gt690`,
    uses: [['search_token', 'search_token_code', 'code_hash=?'], ['search_composite', 'search_composite_system_code_value', 'c1_system_code_hash=? AND c2_high>?'], ['search_reference', 'search_reference_resource', 'id=? AND resource_type=? AND param=?']],
  },
  {
    name: '_has checked per candidate (another parameter drives)',
    path: `Patient?_has:Observation:subject:code=${LOINC}|64098-7&identifier=${MRN}|MRN-7`,
    uses: [['search_token', 'search_token_code', 'code_hash=?'], ['search_reference', 'search_reference_1', 'target_type=? AND target_id=?'], ['search_token', 'search_token_resource', 'id=? AND resource_type=?']],
  },
  { name: '_include', path: `Procedure?subject=Patient/${p}&_include=Procedure:encounter`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=?'], ['search_reference', 'search_reference_resource', 'id=? AND resource_type=?']] },
  { name: '_revinclude', path: `Encounter?subject=Patient/${p}&_revinclude=Procedure:encounter`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=?']] },
  { name: '_sort=-date', path: `Observation?subject=Patient/${p}&_sort=-date&_count=5`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=?'], ['search_date', 'search_date_resource', 'id=? AND resource_type=?']] },
  { name: 'compartment', path: `Patient/${p}/Procedure?code=${CPT}|97116`, uses: [['search_reference', 'search_reference_1', 'target_type=? AND target_id=?'], ['search_token', 'search_token_resource', 'id=? AND resource_type=?']] },
];

/** A resource of each type the shapes above need beyond the generated patients. */
const EXTRA: Resource[] = [
  { resourceType: 'ValueSet', id: 'gait', url: 'http://example.org/fhir/ValueSet/gait', status: 'active' },
  { resourceType: 'ValueSet', id: 'balance', url: 'http://example.org/fhir/ValueSet/balance', status: 'active' },
  ...[0.1, 0.5, 0.9].map((probability, i): Resource => ({ resourceType: 'RiskAssessment', id: `fall${i}`, status: 'final', subject: { reference: `Patient/bp${i}` }, prediction: [{ probabilityDecimal: probability }] })),
];

/** What a shape's plans break: an index table read whole, or a required index read missing. */
function violations(shape: Shape, plans: StatementPlan[], postgres: boolean): string[] {
  const accesses = plans.flatMap((plan) => plan.accesses);
  const problems: string[] = [];
  for (const a of accesses) if (a.full && a.table.startsWith('search_')) problems.push(`${a.table} read whole (${a.index ?? 'no index'})`);
  for (const [table, index, key] of shape.uses) {
    const ok = accesses.some((a: Access) => a.table === table && a.index === index && !a.full && (postgres || !key || a.key.startsWith(key)));
    if (!ok) problems.push(`no read of ${table} by ${index}${key && !postgres ? ` (${key})` : ''}`);
  }
  return problems;
}

function describePlans(plans: StatementPlan[]): string {
  return plans.map((p) => `${p.sql}\n  ${p.accesses.map((a) => `${a.table} ${a.alias}: ${a.full ? 'FULL ' : ''}${a.index ?? ''} ${a.key}`).join('\n  ')}`).join('\n');
}

describeEachEngine('search: query plans', (engine) => {
  let s: TestServer;
  const postgres = engine.name === 'postgres';
  beforeAll(async () => {
    s = await startTestServer(engine);
    for (const bundle of [referenceBundle(), ...generatedBundles(20, 10)]) {
      const r = await fhir(s.baseUrl, 'POST', '', JSON.parse(bundle));
      expect(r.status, r.text.slice(0, 300)).toBe(200);
    }
    await load(s.baseUrl, EXTRA);
    await s.stride.store.analyze();
  }, 120_000);
  afterAll(async () => s?.close());

  for (const shape of SHAPES) {
    it(`${shape.name}: ${shape.uses.map(([, index]) => index).join(', ')}`, async () => {
      const plans = await searchPlans(s.stride.store, shape.path);
      expect(violations(shape, plans, postgres), describePlans(plans)).toEqual([]);
    });
  }

  it('each guard fails when an index it relies on is dropped', async () => {
    const store = s.stride.store;
    const indexes = [...new Set(SHAPES.flatMap((shape) => shape.uses.map(([, index]) => index)))];
    for (const index of indexes) {
      const definition = postgres
        ? (await store.reader.get<{ d: string }>(raw(`SELECT indexdef AS d FROM pg_indexes WHERE indexname = '${index}'`)))?.d
        : (await store.reader.get<{ d: string }>(raw(`SELECT sql AS d FROM sqlite_master WHERE type = 'index' AND name = '${index}'`)))?.d;
      expect(definition, index).toBeTruthy();
      await store.transaction((tx) => tx.run(raw(`DROP INDEX ${index}`)));
      try {
        for (const shape of SHAPES.filter((sh) => sh.uses.some(([, i]) => i === index))) {
          const plans = await searchPlans(store, shape.path);
          expect(violations(shape, plans, postgres), `${shape.name} without ${index}:\n${describePlans(plans)}`).not.toEqual([]);
        }
      } finally {
        await store.transaction((tx) => tx.run(raw(definition as string)));
      }
    }
  }, 120_000);
});
