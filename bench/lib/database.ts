// A fresh database for one benchmark run: an empty DATA_DIR (the bot starts its embedded PostgreSQL there and
// migrates it) or a new database on the PostgreSQL server of BENCH_DATABASE_URL / TEST_DATABASE_URL, dropped
// afterwards.
// (test/support/database.ts needs vitest's context, so the bench has this small one of its own.)
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { openDatabase, type Database } from '../../src/db/client.ts';

export type DbKind = 'embedded' | 'postgres';

export interface BenchDatabase {
  kind: DbKind;
  /** DATABASE_URL or DATA_DIR for the bot. */
  env: Record<string, string>;
  /** Opens it in this process (embedded: the bot's running server, or one started for the caller). */
  open(): Promise<Database>;
  destroy(): Promise<void>;
}

/** The PostgreSQL server the bench may create databases on, if any. */
export const postgresUrl = (): string | undefined => process.env.BENCH_DATABASE_URL || process.env.TEST_DATABASE_URL || undefined;

export async function createBenchDatabase(kind: DbKind): Promise<BenchDatabase> {
  if (kind === 'postgres') {
    const url = postgresUrl();
    if (!url) throw new Error('PostgreSQL runs need TEST_DATABASE_URL (or BENCH_DATABASE_URL), e.g. postgres://postgres@127.0.0.1:5432/test');
    const name = `mjbot_bench_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    const databaseUrl = dbUrl.toString();
    return {
      kind,
      env: { DATABASE_URL: databaseUrl },
      open: () => openDatabase({ databaseUrl, dataDir: '' }),
      async destroy() {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mjbot-bench-'));
  await chmod(dataDir, 0o755); // run as root, the server's unprivileged user must reach it
  return {
    kind,
    env: { DATA_DIR: dataDir },
    open: () => openDatabase({ dataDir }),
    destroy: () => rm(dataDir, { recursive: true, force: true }),
  };
}
