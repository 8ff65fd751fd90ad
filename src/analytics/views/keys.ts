/**
 * Row keys (SQL on FHIR v2, Joins with Resource and Reference Keys, "Return the Resource ID"): a resource's key is its
 * logical id and a reference's key the id it points at, so a view's `id` column joins another view's
 * getReferenceKey() column. Relative literal references (`Patient/123`, `Patient/123/_history/2`) are required;
 * contained (`#x`), logical (identifier only) and absolute references to other servers cannot be joined to a stored
 * resource and have no key (the empty collection), as the specification says for references a runner cannot resolve.
 */
const RELATIVE_REFERENCE = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;

/** The key a Reference (its JSON) points at, when it points at a resource of `type` (any type when undefined). */
export function referenceKey(reference: unknown, type?: string): string | undefined {
  const text = (reference as { reference?: unknown } | null | undefined)?.reference;
  if (typeof text !== 'string') return undefined;
  const m = RELATIVE_REFERENCE.exec(text);
  return m && (type === undefined || type === m[1]) ? m[2] : undefined;
}
