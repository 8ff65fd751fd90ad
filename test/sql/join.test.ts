/** join() of src/sql/sql.ts (one pass since issue 23's audit batches) and chunks() of src/search/indexer.ts. */
import { expect, it } from 'vitest';
import { join, raw, render, sql } from '../../src/sql/sql.js';
import { sqliteDialect } from '../../src/storage/sqlite/dialect.js';
import { chunks } from '../../src/search/indexer.js';

it('joins fragments with their values in order, the separator between them', () => {
  const parts = [sql`a = ${1}`, raw('b IS NULL'), sql`c BETWEEN ${2} AND ${3}`, sql`(${4}, ${'x'})`];
  expect(render(join(parts, ' AND '), sqliteDialect)).toEqual({ text: 'a = ? AND b IS NULL AND c BETWEEN ? AND ? AND (?, ?)', params: [1, 2, 3, 4, 'x'] });
  expect(render(sql`SELECT * FROM t WHERE ${join([sql`id = ${'q'}`], ' OR ')} LIMIT ${5}`, sqliteDialect)).toEqual({ text: 'SELECT * FROM t WHERE id = ? LIMIT ?', params: ['q', 5] });
  expect(render(join([], ', '), sqliteDialect).text).toBe('');
});

it('joins a long VALUES list in linear time', () => {
  const rows = Array.from({ length: 20_000 }, (_, i) => sql`(${i}, ${'v'})`);
  const started = performance.now();
  const joined = join(rows, ', ');
  expect(joined.values.length).toBe(40_000);
  expect(joined.values[39_998]).toBe(19_999);
  // Quadratic (copying every value so far at each step) this took seconds.
  expect(performance.now() - started).toBeLessThan(500);
});

it('cuts rows into the statement sizes given, largest first, the rest in one', () => {
  expect(chunks(150, [64, 8, 1])).toEqual([[0, 64], [64, 128], [128, 136], [136, 144], [144, 145], [145, 146], [146, 147], [147, 148], [148, 149], [149, 150]]);
  expect(chunks(450, [200])).toEqual([[0, 200], [200, 400], [400, 450]]);
  expect(chunks(0, [64, 8, 1])).toEqual([]);
});
