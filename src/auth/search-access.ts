/** A caller's Access as the searcher sees it (src/search/access.ts): what it may search and read, and its patient. */
import type { SearchAccess } from '../search/types.js';
import type { Access } from './access.js';

const cache = new WeakMap<Access, SearchAccess>();

export function searchAccess(access: Access): SearchAccess {
  let found = cache.get(access);
  if (!found) {
    found = {
      maySearch: (type) => access.grants.allows(type, 's'),
      mayRead: (type) => access.grants.allows(type, 'r'),
      ...(access.patient ? { patient: access.patient } : {}),
    };
    cache.set(access, found);
  }
  return found;
}
