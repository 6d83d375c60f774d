// One PostgreSQL client (the postgres driver) for both set-ups: DATABASE_URL, or the embedded server the bot
// starts itself in DATA_DIR when it is unset (src/db/embedded.ts). The same drizzle schema and migrations.
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import type { Logger } from '../log.ts';
import { fulfilsWithin } from '../timeout.ts';
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded.ts';
import { importPglite } from './pglite-import.ts';
import * as schema from './schema.ts';

export type Db = PgDatabase<PgQueryResultHKT, typeof schema>;

export interface Database {
  db: Db;
  /** embedded: the server this bot runs itself in DATA_DIR; postgres: the one DATABASE_URL names. */
  kind: 'embedded' | 'postgres';
  /** Where it listens (for a second connection of its own, such as LISTEN/NOTIFY). */
  url: string;
  /**
   * Runs `fn` only if this process can take the session-level advisory lock `key` (no other session holds
   * it); resolves `{ locked: false }` at once otherwise. `fn` runs its queries on `db` as usual: the lock is
   * held on a connection of its own, so long work in `fn` can still commit in many short transactions.
   */
  withSessionLock<T>(key: bigint, fn: () => Promise<T>): Promise<{ locked: true; value: T } | { locked: false }>;
  /**
   * Holds the session-level advisory lock `key` until close: the mark of a live instance. Safe to call again
   * (cheap when still held): it checks that its connection's own backend holds the lock and takes it again
   * when not (a database restart: the driver reconnects as a new session, without the lock). Resolves true
   * when the lock had been lost and was taken again.
   */
  holdLock(key: bigint): Promise<boolean>;
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

export interface OpenOptions {
  /** A PostgreSQL server; unset: the embedded one in `dataDir` (started here when it is not running). */
  databaseUrl?: string;
  dataDir: string;
  /** For the embedded server's start-up and the one-time PGlite import. */
  log?: Logger;
}

export async function openDatabase(opts: OpenOptions): Promise<Database> {
  if (opts.databaseUrl) return connect(opts.databaseUrl, 'postgres');
  const dataDir = path.resolve(opts.dataDir);
  const server = await startEmbeddedPostgres({ dir: path.join(dataDir, 'postgres'), passwordFile: path.join(dataDir, 'postgres.password'), log: opts.log });
  let database: Database | undefined;
  try {
    database = await connect(server.url, 'embedded', server);
    await importPglite(database.db, dataDir, opts.log);
    return database;
  } catch (err) {
    if (database) await database.close();
    else if (server.started) await server.stop();
    throw err;
  }
}

/** Each client's connections carry a name of their own, so it can tell its sessions from everyone else's. */
let clients = 0;

async function connect(url: string, kind: Database['kind'], embedded?: EmbeddedServer): Promise<Database> {
  const { default: postgres } = await import('postgres');
  const { drizzle } = await import('drizzle-orm/postgres-js');
  const { migrate } = await import('drizzle-orm/postgres-js/migrator');
  // onnotice: silence "relation already exists, skipping" chatter from idempotent migrations.
  const applicationName = `mj-discord-bot ${process.pid}.${++clients}`;
  const client = postgres(url, { max: 10, onnotice: () => {}, connection: { application_name: applicationName } });
  const db = drizzle(client, { schema });
  try {
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
  } catch (err) {
    await client.end({ timeout: 1 });
    throw err;
  }
  // Session locks live on clients of their own, one connection each, never on a connection reserved from the
  // pool: the driver's reserve() can hang for good when the server drops connections while it waits
  // (porsager/postgres#1195), and a reserved connection whose backend died is not safely reusable (#1208).
  type Single = ReturnType<typeof postgres>;
  const single = (): Single =>
    postgres(url, { max: 1, max_lifetime: null, onnotice: () => {}, connection: { application_name: applicationName } });
  const discard = (c: Single) => void c.end({ timeout: 0 }).catch(() => undefined);
  let held: Single | undefined;
  let lockTaken = false;
  let closing: Promise<void> | undefined;
  /** Whether the lock client's own backend holds `key`; 'gone' when it does not, or does not answer in 2 s. */
  const lockState = async (conn: Single, key: bigint) => {
    let state = 'gone' as 'held' | 'gone';
    await answers(async () => {
      const [row] = await conn`select exists (select 1 from pg_locks where locktype = 'advisory' and granted and objsubid = 1
        and pid = pg_backend_pid() and classid::bigint = ${String(key >> 32n)}::bigint
        and objid::bigint = ${String(key & 0xffff_ffffn)}::bigint) as held`;
      if (row?.held) state = 'held';
    });
    return state;
  };
  return {
    db: db as unknown as Db,
    kind,
    url,
    async withSessionLock(key, fn) {
      const conn = single();
      try {
        return await underSessionLock(
          fn,
          async () => Boolean((await conn`select pg_try_advisory_lock(${String(key)}::bigint) as locked`)[0]?.locked),
          async () => void (await conn`select pg_advisory_unlock(${String(key)}::bigint)`),
        );
      } finally {
        discard(conn);
      }
    },
    async holdLock(key) {
      if (held) {
        if ((await lockState(held, key)) === 'held') return false;
        // A restart, a killed session, or a connection that no longer answers: start over on a new one (ending
        // the old one frees its lock, should its backend still be alive).
        discard(held);
        held = undefined;
      }
      const conn = single();
      try {
        // The try form: while an old session of ours still holds the key, wait for the next check, never block.
        let locked = false;
        const answered = await answers(async () => {
          locked = Boolean((await conn`select pg_try_advisory_lock(${String(key)}::bigint) as locked`)[0]?.locked);
        }, 5_000);
        if (!answered || !locked) throw new Error(answered ? 'liveness lock is still held by an earlier session' : 'no answer while taking the liveness lock');
      } catch (err) {
        discard(conn);
        throw err;
      }
      held = conn;
      const retaken = lockTaken;
      lockTaken = true;
      return retaken;
    },
    lockHeld: async (key) => Boolean((await db.execute<{ held: boolean }>(lockHeldQuery(key)))[0]?.held),
    ping: () => answers(() => db.execute(sql`select 1`)),
    // Once, however often called (a failed start-up closes it on more than one path).
    close: () => (closing ??= (async () => {
      // The embedded server stops with the last client using it: a purge run from the shell while the bot
      // serves leaves it running, and so does the bot while such a run is connected.
      const others = embedded
        ? await client`select count(*)::int as n from pg_stat_activity where backend_type = 'client backend' and application_name <> ${applicationName}`.then(
            (r) => Number(r[0]?.n),
            () => 0,
          )
        : 0;
      if (held) await held.end({ timeout: 1 }).catch(() => undefined);
      await client.end({ timeout: 5 });
      if (embedded && others === 0) await embedded.stop();
    })()),
  };
}
