// Tests run on real PostgreSQL only: the server TEST_DATABASE_URL names, or else ONE embedded server started
// here for the whole run (the same binaries and start-up code as the bot's default), so `npm test` needs no
// PostgreSQL installed. A migrated template database is made once; each test copies it (CREATE DATABASE …
// TEMPLATE), which is faster than migrating every test's database.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import postgres from 'postgres';
import type { TestProject } from 'vitest/node';
import { openDatabase } from '../../src/db/client.ts';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { LAUNCHER } from './bot.ts';

declare module 'vitest' {
  export interface ProvidedContext {
    /** A superuser connection on the test server, for CREATE/DROP DATABASE. */
    testServerUrl: string;
    /** The migrated template each test's database is copied from. */
    testTemplate: string;
  }
}

export default async function setup(project: TestProject) {
  // The bots the tests start run from the compiled tree (as `npm start` does): compiled here once, not by the
  // first bots of every parallel test file at the same time.
  execFileSync(process.execPath, [LAUNCHER, '--compile'], { stdio: 'inherit' });
  let url = process.env.TEST_DATABASE_URL;
  let stopServer = async () => {};
  if (!url) {
    const dir = await mkdtemp(path.join(os.tmpdir(), 'mjbot-test-pg-'));
    // Run as root, the server runs as an unprivileged user, who must reach the folder (mkdtemp makes it 0700).
    await chmod(dir, 0o755);
    const server = await startEmbeddedPostgres({
      dir: path.join(dir, 'cluster'),
      passwordFile: path.join(dir, 'password'),
      durable: false,
      // Two test files at a time, each with bots of up to 10 connections, their own pool, and an admin one.
      settings: { max_connections: 300 },
    });
    url = server.url;
    stopServer = async () => {
      await server.stop();
      await rm(dir, { recursive: true, force: true });
    };
  }
  const template = `mjbot_template_${randomBytes(4).toString('hex')}`;
  const admin = postgres(url, { max: 1, onnotice: () => {} });
  await admin.unsafe(`CREATE DATABASE ${template}`);
  const templateUrl = new URL(url);
  templateUrl.pathname = `/${template}`;
  // Migrated, then closed: CREATE DATABASE … TEMPLATE needs the template free of sessions.
  await (await openDatabase({ databaseUrl: templateUrl.toString(), dataDir: '' })).close();
  project.provide('testServerUrl', url);
  project.provide('testTemplate', template);
  return async () => {
    await admin.unsafe(`DROP DATABASE IF EXISTS ${template} WITH (FORCE)`).catch(() => undefined);
    await admin.end();
    await stopServer();
  };
}
