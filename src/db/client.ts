// PGlite (embedded, in DATA_DIR) when DATABASE_URL is unset, the postgres driver otherwise.
// Both get the same drizzle schema and the same migrations from drizzle/.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  kind: 'pglite' | 'postgres';
  /**
   * Runs `fn` only if this process can take the session-level advisory lock `key` (no other session holds
   * it); resolves `{ locked: false }` at once otherwise. `fn` runs its queries on `db` as usual: the lock is
   * held on a connection of its own, so long work in `fn` can still commit in many short transactions.
   */
  withSessionLock<T>(key: bigint, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
  close(): Promise<void>;
}

/** Runs `fn` if `tryLock` takes the advisory lock, then `unlock`s it; both query the session that holds it. */
async function underSessionLock<T>(
  fn: () => Promise<T>,
  tryLock: () => Promise<boolean>,
  unlock: () => Promise<void>,
): Promise<{ locked: true; value: T } | { locked: false }> {
  if (!(await tryLock())) return { locked: false };
  try {
    return { locked: true, value: await fn() };
  } finally {
    await unlock();
  }
}

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<Database> {
  if (opts.databaseUrl) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    // onnotice: silence "relation already exists, skipping" chatter from idempotent migrations.
    const client = postgres(opts.databaseUrl, { max: 10, onnotice: () => {} });
    const db = drizzle(client, { schema });
    await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    return {
      db: db as unknown as Db,
      kind: 'postgres',
      // A session lock must be released on the connection that took it: reserve one from the pool.
      async withSessionLock(key, fn) {
        const conn = await client.reserve();
        try {
          return await underSessionLock(
            fn,
            async () => Boolean((await conn`select pg_try_advisory_lock(${String(key)}::bigint) as locked`)[0]?.locked),
            async () => void (await conn`select pg_advisory_unlock(${String(key)}::bigint)`),
          );
        } finally {
          conn.release();
        }
      },
      close: () => client.end({ timeout: 5 }),
    };
  }
  const { PGlite } = await import('@electric-sql/pglite');
  const { drizzle } = await import('drizzle-orm/pglite');
  const { migrate } = await import('drizzle-orm/pglite/migrator');
  const dir = path.resolve(opts.dataDir, 'pglite');
  await mkdir(dir, { recursive: true });
  const client = await PGlite.create(dir);
  const db = drizzle(client, { schema });
  await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
  return {
    db: db as unknown as Db,
    kind: 'pglite',
    // PGlite is one session in one process; the lock still keeps the code path the same as on PostgreSQL.
    withSessionLock: (key, fn) =>
      underSessionLock(
        fn,
        async () => Boolean((await db.execute<{ locked: boolean }>(sql`select pg_try_advisory_lock(${String(key)}::bigint) as locked`)).rows[0]?.locked),
        async () => void (await db.execute(sql`select pg_advisory_unlock(${String(key)}::bigint)`)),
      ),
    close: () => client.close(),
  };
}
