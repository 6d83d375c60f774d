// Boots PGlite once and migrates it; each test then starts from a copy of that data directory
// (a copy takes milliseconds, a fresh PGlite boot seconds). With TEST_DATABASE_URL set, tests use real
// PostgreSQL instead and this does nothing.
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    pgliteTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  if (process.env.TEST_DATABASE_URL) {
    project.provide('pgliteTemplate', '');
    return;
  }
  const dir = await mkdtemp(path.join(os.tmpdir(), 'mjbot-template-'));
  const db = await openDatabase({ dataDir: dir });
  await db.close();
  project.provide('pgliteTemplate', dir);
  return () => rm(dir, { recursive: true, force: true });
}
