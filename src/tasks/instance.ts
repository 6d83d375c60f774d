// Each running bot process is an "instance" marked by a session advisory lock it holds while alive. The jobs it
// claims carry its key; when an instance dies (a crash, kill -9) its lock goes with its connection, and any
// instance — a restarted one included — adopts its work: claims never recorded at a relay go back to the queue
// (the next claim asks the relay first where it can), jobs at a relay and pending final messages are followed.
//
// A database restart drops every lock at once, though every instance is alive: each notices within a check
// (the lock is verified in pg_locks on its own connection, see holdLock) and takes it again. So a missing lock
// counts as death only once the server has been up longer than that; before, adoption waits. Even a wrong
// adoption is harmless: submissions are fenced by their claim number and deliveries by their lease.
import { randomBytes } from 'node:crypto';
import { sql } from 'drizzle-orm';
import type { Database } from '../db/client.ts';
import type { Logger } from '../log.ts';
import { fulfilsWithin } from '../timeout.ts';
import type { Lifecycle } from './lifecycle.ts';
import type { TaskRepo } from './repo.ts';

/** How often an instance checks its own lock and looks for dead instances. */
export const INSTANCE_CHECK_MS = 5_000;
/** A check taking longer than this is abandoned (it goes on in the background) and the next one is scheduled. */
const CHECK_TIMEOUT_MS = 15_000;
/** A missing lock is a dead instance only when the database has been up longer than this (see above). */
const RESTART_GRACE_S = 4 * (INSTANCE_CHECK_MS / 1000);
/** One of this instance's own claims that its dispatcher no longer submits, this old, was lost (see requeueLost). */
const LOST_CLAIM_MS = 60_000;

/** Instance keys share a prefix ("mj") so an operator can tell them apart in pg_locks. */
const KEY_PREFIX = 0x6d6an << 48n;

export class Instance {
  /** A fresh instance key: the loops stamp it on the work they take before the instance first checks in. */
  static newKey(): bigint {
    return KEY_PREFIX | BigInt(`0x${randomBytes(6).toString('hex')}`);
  }

  private timer: NodeJS.Timeout | undefined;
  private checking: Promise<void> | undefined;

  constructor(
    private readonly database: Pick<Database, 'db' | 'holdLock' | 'lockHeld'>,
    private readonly lifecycle: Pick<Lifecycle, 'adopt' | 'requeueLost'>,
    private readonly repo: Pick<TaskRepo, 'otherOwners'>,
    private readonly log: Logger,
    readonly key: bigint = Instance.newKey(),
    /** The claims this process's dispatcher is submitting right now (they are not lost). */
    private readonly submitting: () => ReadonlySet<string> = () => new Set(),
    /** Work was taken over: the loops should look at it now. */
    private readonly onAdopted: () => void = () => {},
  ) {}

  /** Checks at once, then every INSTANCE_CHECK_MS until stopped. */
  start(): void {
    const tick = () => {
      this.timer = setTimeout(() => {
        const check = this.check().catch((err: unknown) => this.log.error({ err }, 'instance check failed'));
        // A check stuck on the database must not stop the next ones: liveness depends on them.
        this.checking = fulfilsWithin(check, CHECK_TIMEOUT_MS).then((done) => {
          if (!done) this.log.error({ timeoutMs: CHECK_TIMEOUT_MS }, 'instance check did not finish; checking again');
        });
        void this.checking.finally(() => {
          if (this.timer) tick();
        });
      }, INSTANCE_CHECK_MS);
    };
    tick();
  }

  async stop(): Promise<void> {
    clearTimeout(this.timer);
    this.timer = undefined;
    await this.checking;
  }

  /** Marks this instance alive (again, after a database restart) and adopts the work of dead ones. */
  async check(): Promise<void> {
    const retaken = await this.database.holdLock(this.key);
    if (retaken) this.log.warn({ instance: this.key.toString(16) }, 'liveness lock was lost (database restart?) and is held again');
    const owners = await this.repo.otherOwners(this.key);
    if (owners.length > 0 && (await this.databaseUpSeconds()) > RESTART_GRACE_S) {
      for (const owner of owners) {
        if (owner !== null && (await this.database.lockHeld(owner))) continue;
        const { adopted, requeued } = await this.lifecycle.adopt(owner, this.key);
        if (adopted + requeued > 0) {
          this.log.warn({ from: owner === null ? null : owner.toString(16), adopted, requeued }, 'took over the jobs of a stopped instance');
          this.onAdopted();
        }
      }
    }
    const lost = await this.lifecycle.requeueLost(this.key, this.submitting(), new Date(Date.now() - LOST_CLAIM_MS));
    if (lost > 0) {
      this.log.warn({ requeued: lost }, 'requeued claims whose submission was never recorded');
      this.onAdopted();
    }
  }

  private async databaseUpSeconds(): Promise<number> {
    const rows = (await this.database.db.execute(sql`select extract(epoch from now() - pg_postmaster_start_time())::float8 as up`)) as unknown as
      | Array<{ up: number }>
      | { rows: Array<{ up: number }> };
    const row = Array.isArray(rows) ? rows[0] : rows.rows[0];
    return Number(row?.up ?? Infinity);
  }
}
