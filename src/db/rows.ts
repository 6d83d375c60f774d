// Rows that come back from SQL functions (`select * from mj_accept(…)`) arrive as the driver gives them: keyed by
// column name, in the driver's types. These convert them the way drizzle's own selects do, so a row from a
// function and a row from `db.select()` are the same object.
import { getTableColumns, type InferSelectModel, type Table } from 'drizzle-orm';
import { tasks } from './schema.ts';

export interface RowCodec<T extends Table> {
  /** A raw row (column names, driver values) as `db.select().from(table)` would return it. */
  read(raw: Record<string, unknown>): InferSelectModel<T>;
  /** The column name of a property of the table's model. */
  column(key: string): string;
}

export function rowCodec<T extends Table>(table: T): RowCodec<T> {
  const columns = Object.entries(getTableColumns(table));
  const names = new Map(columns.map(([key, col]) => [key, col.name]));
  return {
    read(raw) {
      const out: Record<string, unknown> = {};
      for (const [key, col] of columns) {
        const value = raw[col.name];
        out[key] = value === null || value === undefined ? null : col.mapFromDriverValue(value);
      }
      return out as InferSelectModel<T>;
    },
    column(key) {
      const name = names.get(key);
      if (name === undefined) throw new Error(`no column for ${key}`);
      return name;
    },
  };
}

/** The task table's codec: the rows mj_accept, mj_insert_tasks and mj_move_positions return. */
export const taskCodec = rowCodec(tasks);

/** Rows of `db.execute` (postgres.js answers with an array of rows). */
export function rowsOf<T>(result: unknown): T[] {
  return result as T[];
}

/** Whether a database error (or one it caused, as drizzle wraps them) carries this SQLSTATE. */
export function hasSqlState(err: unknown, code: string): boolean {
  for (let e = err, depth = 0; e && depth < 5; e = (e as { cause?: unknown }).cause, depth++) {
    if ((e as { code?: unknown }).code === code) return true;
  }
  return false;
}
