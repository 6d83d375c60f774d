// holdLock after a database restart: the postgres driver reconnects a reserved connection as a new backend
// session, which answers `select 1` but no longer holds the advisory lock. holdLock must notice (pg_locks, its
// own backend) and take the lock again, and say so.
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openDatabase, type Database } from '../../src/db/client.ts';
import { startPrivatePostgres, type PrivatePostgres } from '../support/private-postgres.ts';

const KEY = 0x6d6a_0000_1234_5678n;
let pg: PrivatePostgres;
let database: Database;
let observer: postgres.Sql;

beforeAll(async () => {
  pg = await startPrivatePostgres();
  database = await openDatabase({ databaseUrl: pg.url, dataDir: '' });
  observer = postgres(pg.url, { max: 1, onnotice: () => {} });
});
afterAll(async () => {
  await observer?.end();
  await database?.close();
  await pg?.stop();
});

/** The backends holding KEY, seen from another session. */
const holders = async () =>
  (
    await observer`select pid from pg_locks where locktype = 'advisory' and granted and objsubid = 1
      and classid::bigint = ${String(KEY >> 32n)}::bigint and objid::bigint = ${String(KEY & 0xffff_ffffn)}::bigint`
  ).map((r) => r.pid as number);

describe('holdLock', () => {
  it('takes the lock once and then only checks it', async () => {
    expect(await database.holdLock(KEY)).toBe(false);
    const [holder] = await holders();
    expect(holder).toBeTypeOf('number');
    expect(await database.holdLock(KEY)).toBe(false);
    expect(await holders()).toEqual([holder]);
  });

  it('takes it again when its session was ended under it (pg_terminate_backend)', async () => {
    const [before] = await holders();
    await observer`select pg_terminate_backend(${before!})`;
    await expect.poll(holders).toEqual([]);
    expect(await database.holdLock(KEY)).toBe(true);
    const after = await holders();
    expect(after).toHaveLength(1);
    expect(after[0]).not.toBe(before);
    expect(await database.holdLock(KEY)).toBe(false);
  });

  it('takes it again after a server restart', async () => {
    await pg.restart();
    await observer`select 1`.catch(() => undefined); // the observer's own connection was cut too
    expect(await holders()).toEqual([]);
    expect(await database.holdLock(KEY)).toBe(true);
    expect(await holders()).toHaveLength(1);
    expect(await database.lockHeld(KEY)).toBe(true);
    expect(await database.holdLock(KEY)).toBe(false);
  });
});
