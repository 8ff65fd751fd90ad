/**
 * date (R4 search.html#date): every value is a range of epoch milliseconds [low, high], a date by its precision
 * (`2026-03` is the whole month), a Period by its ends (an open end reaches the far past or future), a Timing by its
 * events. The prefixes compare that range with the range of the search value as the spec defines them.
 */
import type { TypedValue } from '@medplum/core';
import type { Period, Timing } from '@medplum/fhirtypes';
import { join, raw, sql, type Sql } from '../../sql/sql.js';
import { MAX_TIME, MIN_TIME, type IndexRows } from '../tables.js';
import { clampTime, dateRange, invalid, splitPrefix, type Prefix } from '../values.js';
import type { ParamType } from './types.js';

/** The ranges a value covers: one for a date or a Period, one per event of a Timing. */
export function dateRanges(item: TypedValue): Array<{ low: number; high: number }> {
  const value = item.value as unknown;
  if (typeof value === 'string') {
    const range = dateRange(value);
    return range ? [range] : [];
  }
  if (!value || typeof value !== 'object') return [];
  if (item.type === 'Period') return periodRange(value as Period);
  if (item.type === 'Timing') {
    const timing = value as Timing;
    const events = (timing.event ?? []).flatMap((e) => dateRanges({ type: 'dateTime', value: e }));
    const bounds = timing.repeat?.boundsPeriod ? periodRange(timing.repeat.boundsPeriod) : [];
    return [...events, ...bounds];
  }
  return [];
}

function periodRange(period: Period): Array<{ low: number; high: number }> {
  if (!period.start && !period.end) return [];
  const low = period.start ? dateRange(period.start)?.low : MIN_TIME;
  const high = period.end ? dateRange(period.end)?.high : MAX_TIME;
  return low === undefined || high === undefined ? [] : [{ low, high }];
}

/** One prefixed value against the stored range [x.low, x.high] (R4 search.html#prefix). */
export function rangeCondition(low: Sql, high: Sql, prefix: Prefix, ql: number, qh: number, approx: () => [number, number]): Sql {
  switch (prefix) {
    case 'eq':
      return sql`(${low} >= ${ql} AND ${high} <= ${qh})`;
    case 'ne':
      return sql`(${low} < ${ql} OR ${high} > ${qh})`;
    case 'gt':
      return sql`${high} > ${qh}`;
    case 'lt':
      return sql`${low} < ${ql}`;
    // ge: "the range above the search value intersects the target, or the search value fully contains it", i.e.
    // high > qh OR (low >= ql AND high <= qh); written with the bound both branches imply (high >= ql) first, so
    // that an index range on high serves it. le likewise, mirrored.
    case 'ge':
      return sql`(${high} >= ${ql} AND (${high} > ${qh} OR ${low} >= ${ql}))`;
    case 'le':
      return sql`(${low} <= ${qh} AND (${low} < ${ql} OR ${high} <= ${qh}))`;
    case 'sa':
      return sql`${low} > ${qh}`;
    case 'eb':
      return sql`${high} < ${ql}`;
    case 'ap': {
      const [al, ah] = approx();
      return sql`(${low} <= ${ah} AND ${high} >= ${al})`;
    }
  }
}

/**
 * One `[prefix]date` search value as a condition on a stored range [low, high] (the audit trail's table searches a
 * point: low and high the same column); a value that is not a date is a 400 naming the parameter.
 */
export function dateCondition(name: string, value: string): (low: Sql, high: Sql) => Sql {
  const { prefix, rest } = splitPrefix(value);
  const range = dateRange(rest);
  if (!range) throw invalid(name, `"${value}" is not a date: use [prefix]YYYY[-MM[-DD[Thh:mm[:ss[.sss]][Z|+hh:mm]]]], prefixes eq ne gt lt ge le sa eb ap`);
  // ap: "the value is within 10% of the gap between now and the date" (R4 #prefix), at least a day either side.
  const approx = (): [number, number] => {
    const gap = Math.max(Math.abs(Date.now() - range.low) * 0.1, 86_400_000);
    return [clampTime(range.low - gap), clampTime(range.high + gap)];
  };
  return (low, high) => rangeCondition(low, high, prefix, range.low, range.high, approx);
}

export const dateParam: ParamType = {
  name: 'date',
  table: 'date',
  modifiers: new Set(),
  extract(def, values, rows) {
    for (const item of values) for (const r of dateRanges(item)) rows.add('date', [def.code, r.low, r.high]);
  },
  match(ctx, values) {
    const conditions = values.map((value) => {
      const condition = dateCondition(ctx.name, value);
      return (x: Sql) => condition(sql`${x}.low`, sql`${x}.high`);
    });
    const { resourceType, code } = ctx.def;
    return {
      table: 'date',
      where(alias) {
        const x = raw(alias);
        return sql`${x}.resource_type = ${resourceType} AND ${x}.param = ${code} AND (${join(conditions.map((c) => c(x)), ' OR ')})`;
      },
    };
  },
  // By where each value starts: an open-ended period would otherwise tie every other one at the far future.
  sortKey(alias, descending) {
    return sql`${raw(descending ? 'MAX' : 'MIN')}(${raw(alias)}.low)`;
  },
};
