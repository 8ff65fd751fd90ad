/**
 * _summary and _elements (R4 search.html#summary, #elements): reduce a resource to the elements asked for and mark it
 * SUBSETTED, as the spec requires.
 */
import { OperationOutcomeError } from '@medplum/core';
import type { Resource } from '@medplum/fhirtypes';
import { loadDefinitions } from '../validation/definitions.js';
import { badRequest } from './outcomes.js';
import { single } from './query.js';

export type SummaryMode = 'true' | 'false' | 'text' | 'data' | 'count';

const SUBSETTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'SUBSETTED', display: 'subsetted' };
const ALWAYS = ['resourceType', 'id', 'meta'];

export interface SubsetOptions {
  summary?: SummaryMode;
  elements?: string[];
}

export function parseSubset(query: Record<string, string[]>): SubsetOptions | undefined {
  const summary = single(query, '_summary');
  const elements = query._elements?.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
  if (summary === undefined && !elements) return undefined;
  if (summary !== undefined && !['true', 'false', 'text', 'data', 'count'].includes(summary)) {
    throw new OperationOutcomeError(badRequest(`_summary must be one of true, false, text, data, count; got "${summary}"`, '_summary'));
  }
  if (summary === 'false' && !elements) return undefined;
  return { summary: summary as SummaryMode | undefined, elements };
}

export function subset(resource: Resource, options: SubsetOptions): Resource {
  const defs = loadDefinitions();
  const type = resource.resourceType;
  const source = resource as unknown as Record<string, unknown>;
  let keep: (name: string) => boolean;
  if (options.elements) {
    const wanted = new Set([...ALWAYS, ...options.elements.map((e) => e.replace(/^[A-Z][A-Za-z]+\./, ''))]);
    const mandatory = defs.mandatoryElements.get(type) ?? new Set();
    keep = (name) => inSet(wanted, name) || inSet(mandatory, name);
  } else if (options.summary === 'true') {
    const summary = defs.summaryElements.get(type) ?? new Set();
    keep = (name) => ALWAYS.includes(name) || inSet(summary, name);
  } else if (options.summary === 'text') {
    const mandatory = defs.mandatoryElements.get(type) ?? new Set();
    keep = (name) => ALWAYS.includes(name) || name === 'text' || inSet(mandatory, name);
  } else if (options.summary === 'data') {
    keep = (name) => name !== 'text';
  } else {
    return resource;
  }
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(source)) if (keep(name)) out[name] = value;
  const meta = (out.meta ?? {}) as { tag?: unknown[] };
  out.meta = { ...meta, tag: [...(meta.tag ?? []), SUBSETTED] };
  return out as unknown as Resource;
}

/** `valueQuantity` is in the set when `value` (a choice element, `value[x]`) is. */
function inSet(set: ReadonlySet<string>, name: string): boolean {
  if (set.has(name)) return true;
  for (let i = 1; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c >= 65 && c <= 90 && set.has(name.slice(0, i))) return true;
  }
  return false;
}
