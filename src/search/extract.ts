/**
 * Index extraction on write: the indexed parameters of the resource's type, each evaluated by its compiled
 * expression. Only the parameters that read one of the resource's own top-level elements are evaluated: a
 * Synthea Observation has 10 of the 40-odd that Observation defines.
 */
import type { Resource } from '@medplum/fhirtypes';
import { rootInput } from './path.js';
import { PARAM_TYPES, paramsOf } from './params/registry.js';
import type { ParamDef } from './params/types.js';
import { IndexRows } from './tables.js';

interface TypePlan {
  /** Every indexed parameter (all but `_id` and `_lastUpdated`). */
  all: readonly ParamDef[];
  /** Parameters whose expression may read anything: always evaluated. */
  always: readonly ParamDef[];
  /** Top-level JSON key -> the parameters that read it. */
  byKey: ReadonlyMap<string, readonly ParamDef[]>;
}

const plans = new Map<string, TypePlan>();

function planOf(resourceType: string): TypePlan {
  let plan = plans.get(resourceType);
  if (plan) return plan;
  const all = [...paramsOf(resourceType).values()].filter((def) => def.evaluate !== undefined);
  const byKey = new Map<string, ParamDef[]>();
  for (const def of all) {
    for (const key of def.keys ?? []) {
      let list = byKey.get(key);
      if (!list) byKey.set(key, (list = []));
      if (!list.includes(def)) list.push(def);
    }
  }
  plan = { all, always: all.filter((def) => !def.keys), byKey };
  plans.set(resourceType, plan);
  return plan;
}

/** Parameters whose values live in index tables. */
export function indexedParams(resourceType: string): readonly ParamDef[] {
  return planOf(resourceType).all;
}

export function extractRows(resource: Resource): IndexRows {
  const rows = new IndexRows();
  const input = rootInput(resource);
  const plan = planOf(resource.resourceType);
  const done = new Set<ParamDef>();
  const run = (def: ParamDef): void => {
    if (done.has(def)) return;
    done.add(def);
    const values = (def.evaluate as NonNullable<ParamDef['evaluate']>)(input);
    if (values.length > 0) PARAM_TYPES[def.type]?.extract(def, values, rows);
  };
  plan.always.forEach(run);
  for (const key in resource) {
    const defs = plan.byKey.get(key);
    if (defs && (resource as unknown as Record<string, unknown>)[key] !== undefined) defs.forEach(run);
  }
  return rows;
}
