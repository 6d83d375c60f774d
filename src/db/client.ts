// PGlite (embedded, in DATA_DIR) when DATABASE_URL is unset, the postgres driver otherwise.
// Both get the same drizzle schema and the same migrations from drizzle/.
import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import { fulfilsWithin } from '../timeout.ts';
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
  /**
   * Holds the session-level advisory lock `key` until close: the mark of a live instance. Safe to call again
   * (cheap when still held); after a lost connection (a database restart) it takes the lock again.
   */
  holdLock(key: bigint): Promise<void>;
  /** Whether the database answers (for /healthz), within a couple of seconds. */
  ping(): Promise<boolean>;
  /** Whether some live session holds the advisory lock `key` (read from pg_locks, without taking it). */
  lockHeld(key: bigint): Promise<boolean>;
  close(): Promise<void>;
}

/** The database answered `query` within a couple of seconds (a dead connection may never answer at all). */
const answers = (query: () => Promise<unknown>, ms = 2_000) => fulfilsWithin(Promise.resolve().then(query), ms);

/** pg_locks shows a bigint advisory key as two 32-bit halves. */
const lockHeldQuery = (key: bigint) =>
  sql`select exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1
      and classid::bigint = ${String(key >> 32n)}::bigint and objid::bigint = ${String(key & 0xffff_ffffn)}::bigint) as held`;

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

/** Advisory lock taken while migrating ("mjmigr"). */
const MIGRATE_LOCK_KEY = 0x6d6a_6d69_6772n;

export const MIGRATIONS_FOLDER = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../drizzle');

export async function openDatabase(opts: { databaseUrl?: string; dataDir: string }): Promise<Database> {
  if (opts.databaseUrl) {
    const { default: postgres } = await import('postgres');
    const { drizzle } = await import('drizzle-orm/postgres-js');
    const { migrate } = await import('drizzle-orm/postgres-js/migrator');
    // onnotice: silence "relation already exists, skipping" chatter from idempotent migrations.
    const client = postgres(opts.databaseUrl, { max: 10, onnotice: () => {} });
    const db = drizzle(client, { schema });
    // Instances started together would run the migrations at once and collide (duplicate pg_type rows): the
    // first to take this lock migrates; the others wait for it, then find nothing left to do.
    const migrator = await client.reserve();
    try {
      await migrator`select pg_advisory_lock(${String(MIGRATE_LOCK_KEY)}::bigint)`;
      await migrate(db, { migrationsFolder: MIGRATIONS_FOLDER });
    } finally {
      await migrator`select pg_advisory_unlock(${String(MIGRATE_LOCK_KEY)}::bigint)`.catch(() => undefined);
      migrator.release();
    }
    let held: Awaited<ReturnType<typeof client.reserve>> | undefined;
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
      async holdLock(key) {
        if (held) {
          const conn = held;
          if (await answers(() => conn`select 1`)) return;
          // The connection (and the lock with it) is gone: take it again on a new one.
          held = undefined;
          conn.release();
        }
        const conn = await client.reserve();
        await conn`select pg_advisory_lock(${String(key)}::bigint)`;
        held = conn;
      },
      lockHeld: async (key) => Boolean((await db.execute<{ held: boolean }>(lockHeldQuery(key)))[0]?.held),
      ping: () => answers(() => db.execute(sql`select 1`)),
      close: async () => {
        held?.release();
        await client.end({ timeout: 5 });
      },
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
  const lockHeld = async (key: bigint) => Boolean((await db.execute<{ held: boolean }>(lockHeldQuery(key))).rows[0]?.held);
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
    // One session for the whole process: the lock, once taken, stays until close.
    async holdLock(key) {
      if (!(await lockHeld(key))) await db.execute(sql`select pg_advisory_lock(${String(key)}::bigint)`);
    },
    lockHeld,
    ping: () => answers(() => db.execute(sql`select 1`)),
    close: () => client.close(),
  };
}
