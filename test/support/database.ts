// A fresh, migrated, empty database for each test that needs one: a copy of the PGlite template, or a new
// database on the PostgreSQL server named by TEST_DATABASE_URL (dropped afterwards).
import { randomBytes } from 'node:crypto';
import { cp, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';

export interface TestDatabase {
  /** Environment for a bot process: DATABASE_URL or DATA_DIR. */
  env: Record<string, string>;
  kind: 'pglite' | 'postgres';
  /** Opens the database in this process (close it before a bot process opens the same PGlite directory). */
  open(): Promise<Database>;
  destroy(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const url = process.env.TEST_DATABASE_URL;
  if (url) {
    const name = `mjbot_test_${randomBytes(6).toString('hex')}`;
    const admin = postgres(url, { max: 1, onnotice: () => {} });
    await admin.unsafe(`CREATE DATABASE ${name}`);
    const dbUrl = new URL(url);
    dbUrl.pathname = `/${name}`;
    const databaseUrl = dbUrl.toString();
    return {
      env: { DATABASE_URL: databaseUrl },
      kind: 'postgres',
      open: () => openDatabase({ databaseUrl, dataDir: '' }),
      async destroy() {
        await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
        await admin.end();
      },
    };
  }
  const dataDir = await mkdtemp(path.join(os.tmpdir(), 'mjbot-data-'));
  await cp(inject('pgliteTemplate'), dataDir, { recursive: true });
  return {
    env: { DATA_DIR: dataDir },
    kind: 'pglite',
    open: () => openDatabase({ dataDir }),
    destroy: () => rm(dataDir, { recursive: true, force: true }),
  };
}
