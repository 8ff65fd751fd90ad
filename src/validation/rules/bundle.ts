/**
 * Bundle rules beyond the R4 invariants bdl-1 to bdl-12 (which invariants.ts evaluates, with every entry's resource's
 * own) (bundle.html#fullUrl, #references, #searchset, http.html#paging): fullUrl is absolute and agrees with the
 * resource's type and id; search results carry ids, match the searched type and say why they are there
 * (search.mode); the paging relations (self, first, previous, next, last) name one page each, so each occurs at most
 * once; a relative reference between entries resolves to exactly one entry.
 */
import type { Bundle, BundleEntry, OperationOutcomeIssue } from '@medplum/fhirtypes';
import { isAbsoluteUri, restfulTail } from '../references.js';
import { issue } from '../issues.js';

const RELATIVE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/([A-Za-z0-9\-.]{1,64}))?$/;

/** An entry the structure layer can have refused (null, a number): these rules only read object entries. */
const isEntry = (entry: unknown): entry is BundleEntry => typeof entry === 'object' && entry !== null && !Array.isArray(entry);

export function checkBundle(bundle: Bundle, path: string, out: OperationOutcomeIssue[]): void {
  const entries = Array.isArray(bundle.entry) ? bundle.entry : [];
  entries.forEach((entry, i) => isEntry(entry) && checkFullUrl(entry, `${path}.entry[${i}]`, out));
  if (bundle.type === 'searchset') checkSearchset(bundle, entries, path, out);
  checkLinks(bundle, path, out);
  checkInternalReferences(entries, path, out);
}

function checkFullUrl(entry: BundleEntry, where: string, out: OperationOutcomeIssue[]): void {
  const url = entry.fullUrl;
  if (typeof url !== 'string') return;
  if (!isAbsoluteUri(url)) {
    out.push(issue('error', 'invalid', `${where}.fullUrl: "${url}" must be an absolute URL (e.g. http://server/fhir/${url} or urn:uuid:...)`, `${where}.fullUrl`));
    return;
  }
  const resource = entry.resource;
  const tail = url.startsWith('urn:') ? undefined : restfulTail(url);
  if (!resource || !tail || !resource.id) return;
  if (tail.type !== resource.resourceType || tail.id !== resource.id) {
    out.push(
      issue('error', 'invalid', `${where}.fullUrl: "${url}" looks like a RESTful URL, so it must end with ${resource.resourceType}/${resource.id}, the entry's type and id`, `${where}.fullUrl`),
    );
  }
}

/** Relations that identify one page of a result (R4 http.html#paging; RFC 8288 relation semantics). */
const SINGLE_RELATIONS = new Set(['self', 'first', 'previous', 'prev', 'next', 'last']);

function checkLinks(bundle: Bundle, path: string, out: OperationOutcomeIssue[]): void {
  const seen = new Set<string>();
  (Array.isArray(bundle.link) ? bundle.link : []).forEach((link, i) => {
    const relation = link?.relation;
    if (typeof relation !== 'string' || !SINGLE_RELATIONS.has(relation)) return;
    if (seen.has(relation)) {
      const where = `${path}.link[${i}].relation`;
      out.push(issue('error', 'invalid', `${where}: a Bundle has at most one "${relation}" link: it names one page`, where));
    }
    seen.add(relation);
  });
}

function checkSearchset(bundle: Bundle, entries: readonly BundleEntry[], path: string, out: OperationOutcomeIssue[]): void {
  const self = (Array.isArray(bundle.link) ? bundle.link : []).find((l) => l?.relation === 'self')?.url;
  const searched = self ? /([A-Z][A-Za-z]+)(?:\/_search)?(?:\?|$)/.exec(self.split('?')[0] + '?')?.[1] : undefined;
  entries.forEach((entry, i) => {
    if (!isEntry(entry)) return;
    const r = entry.resource;
    if (r && !entry.search?.mode) {
      const where = `${path}.entry[${i}]`;
      out.push(issue('warning', 'required', `${where}: a search result should say why it is in the set (search.mode: match, include or outcome)`, where));
    }
    if (!r || entry.search?.mode !== 'match') return;
    const where = `${path}.entry[${i}].resource`;
    if (!r.id) out.push(issue('error', 'invalid', `${where}: a search result must have an id (it comes from a server)`, where));
    if (searched && r.resourceType !== searched) {
      out.push(issue('error', 'invalid', `${where}: a ${r.resourceType} cannot be a match for a search of ${searched} (${self})`, where));
    }
  });
}

/** R4 bundle.html#references: a relative reference is resolved against the base of the entry's fullUrl. */
function checkInternalReferences(entries: BundleEntry[], path: string, out: OperationOutcomeIssue[]): void {
  const byUrl = new Map<string, BundleEntry[]>();
  for (const e of entries) if (isEntry(e) && typeof e.fullUrl === 'string') byUrl.set(e.fullUrl, [...(byUrl.get(e.fullUrl) ?? []), e]);
  if (byUrl.size === entries.length) return;
  entries.forEach((entry, i) => {
    if (!isEntry(entry) || typeof entry.fullUrl !== 'string') return;
    const base = entry.fullUrl && restfulTail(entry.fullUrl) ? entry.fullUrl.replace(/\/[A-Z][A-Za-z]+\/[^/]+(\/_history\/[^/]+)?$/, '') : undefined;
    if (!base || !entry.resource) return;
    for (const { ref, at } of referencesIn(entry.resource, `${path}.entry[${i}].resource`)) {
      const m = RELATIVE.exec(ref);
      const targets = m ? byUrl.get(`${base}/${m[1]}/${m[2]}`) : undefined;
      if (!m || !targets || targets.length < 2) continue;
      const version = m[3];
      const hits = version ? targets.filter((t) => t.resource?.meta?.versionId === version) : targets;
      if (hits.length === 1) continue;
      const text = version
        ? `"${ref}" matches ${targets.length} entries by type and id but none has version ${version}`
        : `"${ref}" matches ${targets.length} entries in the Bundle; add the version (${m[1]}/${m[2]}/_history/n) to say which`;
      out.push(issue('error', 'invalid', `${at}: ${text}`, at));
    }
  });
}

function referencesIn(value: unknown, at: string, out: Array<{ ref: string; at: string }> = []): Array<{ ref: string; at: string }> {
  if (Array.isArray(value)) value.forEach((v, i) => referencesIn(v, `${at}[${i}]`, out));
  else if (value && typeof value === 'object') {
    for (const [k, v] of Object.entries(value)) {
      if (k === 'reference' && typeof v === 'string') out.push({ ref: v, at: `${at}.reference` });
      else if (typeof v === 'object') referencesIn(v, `${at}.${k}`, out);
    }
  }
  return out;
}
