/**
 * X12 control numbers (ISA13 interchange, GS06 group, ST02 transaction set), unique and increasing for ever, kept in
 * the database (migration 7: x12_counter) so that two Stride processes never reuse one: each number is taken by an
 * UPDATE ... RETURNING inside the write transaction that stores the file, which holds the counter's row until it
 * commits (a rolled-back batch, a dry run, gives its numbers back).
 */
import { OperationOutcomeError } from '@medplum/core';
import { badRequest } from '../fhir/outcomes.js';
import { sql } from '../sql/sql.js';
import type { Repository } from '../repo/repository.js';

export type Counter = 'interchange' | 'group' | 'transaction';

/** ISA13 is 9 digits; GS06 and ST02 take at most 9 too. */
const MAX = 999_999_999;

/** The next `count` numbers of a counter, in order. */
export async function takeControlNumbers(tx: Repository, counter: Counter, count = 1): Promise<number[]> {
  const row = await tx.db.get<{ value: number | string }>(sql`UPDATE x12_counter SET value = value + ${count} WHERE name = ${counter} RETURNING value`);
  const last = Number(row?.value);
  if (!Number.isSafeInteger(last)) throw new Error(`x12_counter has no row ${counter}: the database was not migrated`);
  if (last > MAX) throw new OperationOutcomeError(badRequest(`The X12 ${counter} control numbers are used up (${MAX}): a new sender id is needed to go on`));
  return Array.from({ length: count }, (_, i) => last - count + 1 + i);
}
