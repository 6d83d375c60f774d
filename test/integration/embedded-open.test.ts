// Two processes (here: two opens in one process) starting the embedded PostgreSQL on a fresh DATA_DIR at the same
// moment: one cluster, one password, one server that both use, stopped by the last to close.
import { existsSync, readdirSync } from 'node:fs';
import { chmod, mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { sql } from 'drizzle-orm';
import { afterAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';

const dirs: string[] = [];
afterAll(async () => {
  for (const d of dirs) await rm(d, { recursive: true, force: true });
});

const port = async (d: Database) => ((await d.db.execute(sql`select inet_server_port() as port`)) as unknown as Array<{ port: number }>)[0]!.port;

describe('openDatabase on the embedded server', () => {
  it('shares one new cluster and server between two opens at the same moment', async () => {
    const parent = await mkdtemp(path.join(os.tmpdir(), 'mjbot-open-'));
    dirs.push(parent);
    await chmod(parent, 0o755); // run as root, the server's user must reach it
    const dataDir = path.join(parent, 'data');
    const [a, b] = await Promise.all([openDatabase({ dataDir }), openDatabase({ dataDir })]);
    expect(a.kind).toBe('embedded');
    expect(await port(a)).toBe(await port(b));
    expect(readdirSync(dataDir).sort()).toEqual(['postgres', 'postgres.password']);
    await a.close();
    // b still connected: the server stays up for it.
    expect(await b.ping()).toBe(true);
    await b.close();
    expect(existsSync(path.join(dataDir, 'postgres', 'postmaster.pid'))).toBe(false);
  }, 30_000);
});
