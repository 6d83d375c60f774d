// A fresh database for each test that needs one, on the test run's PostgreSQL server (see global-setup.ts):
// a copy of the migrated template, or an empty one for tests of the migrations themselves. Dropped afterwards.
import { randomBytes } from 'node:crypto';
import postgres from 'postgres';
import { inject } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';

export interface TestDatabase {
  /** Environment for a bot process: DATABASE_URL. */
  env: Record<string, string>;
  /** Its connection string. */
  url: string;
  /** Opens the database in this process. */
  open(): Promise<Database>;
  destroy(): Promise<void>;
}

/** `empty`: not migrated (the bot migrates it at start-up), for tests of what the first start does. */
export async function createTestDatabase(opts: { empty?: boolean } = {}): Promise<TestDatabase> {
  const serverUrl = inject('testServerUrl');
  const name = `mjbot_test_${randomBytes(6).toString('hex')}`;
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} });
  await admin.unsafe(opts.empty ? `CREATE DATABASE ${name}` : `CREATE DATABASE ${name} TEMPLATE ${inject('testTemplate')}`);
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${name}`;
  const url = dbUrl.toString();
  return {
    env: { DATABASE_URL: url },
    url,
    open: () => openDatabase({ databaseUrl: url, dataDir: '' }),
    async destroy() {
      await admin.unsafe(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin.end();
    },
  };
}
