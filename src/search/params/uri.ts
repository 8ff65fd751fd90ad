/**
 * uri (R4 search.html#uri): exact by default; `:below` matches URIs that start with the value, `:above` URIs that
 * the value starts with (compared at each `/`).
 */
import { join, raw, sql } from '../../sql/sql.js';
import { prefixUpperBound } from '../normalize.js';
import { unescape } from '../values.js';
import type { ParamType } from './types.js';

const MAX_URI_LENGTH = 2000;

/** `http://a/b/c` -> `http://a/b/c`, `http://a/b`, `http://a`, `http:/`... each prefix ending before a `/`. */
function ancestors(uri: string): string[] {
  const out = [uri];
  for (let i = uri.lastIndexOf('/'); i > 0; i = uri.lastIndexOf('/', i - 1)) out.push(uri.slice(0, i));
  return out;
}

export const uriParam: ParamType = {
  name: 'uri',
  table: 'uri',
  modifiers: new Set(['below', 'above']),
  extract(def, values, rows) {
    for (const item of values) {
      const value = item.value as unknown;
      if (typeof value === 'string' && value !== '' && value.length <= MAX_URI_LENGTH) rows.add('uri', [def.code, value]);
    }
  },
  match(ctx, values) {
    const uris = values.map(unescape);
    const { resourceType, code } = ctx.def;
    return {
      table: 'uri',
      where(alias) {
        const x = raw(alias);
        const scope = sql`${x}.resource_type = ${resourceType} AND ${x}.param = ${code}`;
        if (ctx.modifier === 'below') {
          return sql`${scope} AND (${join(uris.map((u) => sql`(${x}.value >= ${u} AND ${x}.value < ${prefixUpperBound(u)})`), ' OR ')})`;
        }
        const list = ctx.modifier === 'above' ? uris.flatMap(ancestors) : uris;
        return sql`${scope} AND ${x}.value IN (${join(list.map((u) => sql`${u}`), ', ')})`;
      },
    };
  },
  sortKey(alias, descending) {
    return sql`${raw(descending ? 'MAX' : 'MIN')}(${raw(alias)}.value)`;
  },
};
