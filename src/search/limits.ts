/**
 * Bounds on what one search may ask for (issue 3, "Safety"); past each, a 400 says which bound and why. Page size is
 * bounded by the configured maximum (STRIDE_MAX_COUNT) in the search handler.
 */
export const SEARCH_LIMITS = {
  /** Reference hops in one chained parameter (`subject.organization.partof.name` is 3), and `_has` nesting. */
  chainDepth: 4,
  /** Values in one comma-separated OR list. */
  orValues: 100,
  /** Search conditions (parameter occurrences) in one search. */
  conditions: 50,
  /** _include and _revinclude parameters together. */
  includes: 10,
  /** Rounds of `:iterate` includes. */
  includeIterations: 3,
  /** Resources added by includes to one page. */
  includedResources: 5000,
  /** Keys in _sort. */
  sortKeys: 5,
} as const;
