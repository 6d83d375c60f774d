// The previous versions kept their embedded database in DATA_DIR/pglite (PGlite). The first start of the
// embedded PostgreSQL on such a DATA_DIR brings its rows over, once, and keeps the old folder renamed beside it.
// PGlite is loaded only here, and only when there is something to import.
import { existsSync } from 'node:fs';
import { rename } from 'node:fs/promises';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import type { Logger } from '../log.ts';
import type { Db } from './client.ts';

/** What is worth keeping: jobs (their buttons keep working), bans, and each server's and user's settings. */
const TABLES = ['tasks', 'user_bans', 'guild_settings', 'user_settings'] as const;
const BATCH = 1_000;

/** The rows of a query through the postgres driver (drizzle's execute is typed for any driver). */
const rows = <T,>(result: unknown) => result as T[];

/**
 * Imports DATA_DIR/pglite into `db` when both hold what they should: a PGlite database there, and an empty
 * database here (so a second start, or a database already in use, never gets rows twice). All rows arrive in
 * one transaction; only then is the folder renamed to pglite.imported-<date>.
 */
export async function importPglite(db: Db, dataDir: string, log?: Logger): Promise<Record<string, number> | undefined> {
  const source = path.join(dataDir, 'pglite');
  if (!existsSync(path.join(source, 'PG_VERSION'))) return undefined;
  const [row] = rows<{ empty: boolean }>(await db.execute(sql.raw(`select ${TABLES.map((t) => `not exists (select 1 from ${t})`).join(' and ')} as empty`)));
  if (!row?.empty) {
    log?.warn({ folder: source }, 'not importing the PGlite database of the previous version: this database already has data (rename or remove the folder once you no longer need it)');
    return undefined;
  }

  const started = performance.now();
  const { PGlite } = await import('@electric-sql/pglite');
  const pglite = await PGlite.create(source);
  const counts: Record<string, number> = {};
  try {
    const columnsQuery = `select column_name as c from information_schema.columns where table_schema = 'public' and table_name = $1`;
    await db.transaction(async (tx) => {
      for (const table of TABLES) {
        // A database left by an older version may lack newer columns: those take their defaults here.
        const here = new Set(rows<{ c: string }>(await tx.execute(sql.raw(columnsQuery.replace('$1', `'${table}'`)))).map((r) => r.c));
        const there = (await pglite.query<{ c: string }>(columnsQuery, [table])).rows.map((r) => r.c);
        const list = there.filter((c) => here.has(c)).map((c) => `"${c}"`).join(', ');
        counts[table] = 0;
        if (!list) continue;
        // Rows travel as JSON written by PGlite's PostgreSQL and read by this server's: every type round-trips.
        // (ctid: a stable order to page by, as nothing writes to the old database.)
        for (let offset = 0; ; offset += BATCH) {
          const [batch] = (
            await pglite.query<{ json: string | null; n: number }>(
              `select json_agg(t)::text as json, count(*)::int as n from (select ${list} from ${table} order by ctid limit ${BATCH} offset ${offset}) t`,
            )
          ).rows;
          if (!batch?.json) break;
          await tx.execute(sql`insert into ${sql.raw(table)} (${sql.raw(list)}) overriding system value
            select ${sql.raw(list)} from json_populate_recordset(null::${sql.raw(table)}, ${batch.json}::json)`);
          counts[table] += batch.n;
          if (batch.n < BATCH) break;
        }
      }
      // user_bans.id is an identity column: new bans go on after the highest imported id.
      await tx.execute(sql`select setval(pg_get_serial_sequence('user_bans', 'id'), coalesce(max(id), 0) + 1, false) from user_bans`);
    });
  } finally {
    await pglite.close();
  }
  const kept = `${source}.imported-${new Date().toISOString().slice(0, 19).replace(/:/g, '-')}`;
  await rename(source, kept);
  log?.info({ ...counts, from: source, keptAs: kept, durationMs: Math.round(performance.now() - started) }, 'imported the PGlite database of the previous version');
  return counts;
}
