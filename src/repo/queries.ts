/** The repository's SQL, written once for every engine. */
import { join, raw, sql, type Dialect, type Sql } from '../sql/sql.js';

const COLUMNS = raw('resource_type, id, version_id, last_updated, deleted, content');

export const selectCurrent = (type: string, id: string, dialect?: Dialect): Sql =>
  sql`SELECT ${COLUMNS} FROM resource WHERE resource_type = ${type} AND id = ${id}${raw(dialect?.lockRows ?? '')}`;

/** The current rows of several resources at once: `(resource_type, id) IN ((type, id), ...)`, one round trip. */
export const selectCurrentMany = (keys: ReadonlyArray<readonly [type: string, id: string]>): Sql =>
  sql`SELECT ${COLUMNS} FROM resource WHERE (resource_type, id) IN (${join(
    keys.map(([type, id]) => sql`(${type}, ${id})`),
    ', ',
  )})`;

export const selectVersion = (type: string, id: string, versionId: number): Sql =>
  sql`SELECT ${COLUMNS} FROM resource_history WHERE resource_type = ${type} AND id = ${id} AND version_id = ${versionId}`;

/** `ifAbsent`: a current row already there is left as it is (0 rows changed) instead of failing the statement. */
export const insertCurrent = (type: string, id: string, version: number, time: number, deleted: number, content: string, ifAbsent = false): Sql =>
  sql`INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content)
      VALUES (${type}, ${id}, ${version}, ${time}, ${deleted}, ${content})${raw(ifAbsent ? IF_ABSENT : '')}`;

const IF_ABSENT = ' ON CONFLICT (resource_type, id) DO NOTHING';

/** Moves the current row from `previous` to `version`; 0 rows changed means someone else moved it first. */
export const updateCurrent = (type: string, id: string, previous: number, version: number, time: number, deleted: number, content: string): Sql =>
  sql`UPDATE resource SET version_id = ${version}, last_updated = ${time}, deleted = ${deleted}, content = ${content}
      WHERE resource_type = ${type} AND id = ${id} AND version_id = ${previous}`;

export const insertHistory = (type: string, id: string, version: number, time: number, deleted: number, content: string): Sql =>
  sql`INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content)
      VALUES (${type}, ${id}, ${version}, ${time}, ${deleted}, ${content})`;

/**
 * One statement for both rows of a version, where the engine takes writes in WITH (Dialect.writesInWith): the
 * current row is inserted (`ifAbsent`: unless there is one), or moved from `previous` (UPDATE), and the history
 * row is inserted only when that happened, so a current row someone else moved first (or, `ifAbsent`, one already
 * there) changes nothing (0 rows, as updateCurrent) and leaves no history row behind. The casts type the VALUES row
 * as the columns are typed.
 */
export const writeVersionRows = (type: string, id: string, previous: number | undefined, version: number, time: number, deleted: number, content: string, ifAbsent = false): Sql => {
  const v = sql`WITH v (resource_type, id, version_id, last_updated, deleted, content) AS (VALUES (CAST(${type} AS TEXT), CAST(${id} AS TEXT), CAST(${version} AS INTEGER), CAST(${time} AS BIGINT), CAST(${deleted} AS INTEGER), CAST(${content} AS TEXT)))`;
  const current =
    previous === undefined
      ? sql`INSERT INTO resource (resource_type, id, version_id, last_updated, deleted, content) SELECT * FROM v${raw(ifAbsent ? IF_ABSENT : '')} RETURNING 1`
      : sql`UPDATE resource r SET version_id = v.version_id, last_updated = v.last_updated, deleted = v.deleted, content = v.content
          FROM v WHERE r.resource_type = v.resource_type AND r.id = v.id AND r.version_id = ${previous} RETURNING 1`;
  return sql`${v}, c AS (${current})
    INSERT INTO resource_history (resource_type, id, version_id, last_updated, deleted, content) SELECT * FROM v WHERE EXISTS (SELECT 1 FROM c)`;
};
