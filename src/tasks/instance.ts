// Each running bot process is an "instance" marked by a session advisory lock it holds while alive. The jobs it
// claims carry its key; when an instance dies (a crash, kill -9) its lock goes with its connection, and any
// instance — a restarted one included — adopts its jobs: submitted ones are followed again, unsubmitted ones
// go back to the queue. No job is lost, and none is submitted twice.
import { randomBytes } from 'node:crypto';
import type { Database } from '../db/client.ts';
import type { Logger } from '../log.ts';
import type { TaskRepo } from './repo.ts';

/** A claim this old without an upstream id was lost by this very instance (its submission could not be recorded). */
const STALE_CLAIM_MS = 5 * 60_000;

/** Instance keys share a prefix ("mj") so an operator can tell them apart in pg_locks. */
const KEY_PREFIX = 0x6d6an << 48n;

export class Instance {
  readonly key = KEY_PREFIX | BigInt(`0x${randomBytes(6).toString('hex')}`);

  constructor(
    private readonly database: Pick<Database, 'holdLock' | 'lockHeld'>,
    private readonly repo: TaskRepo,
    private readonly log: Logger,
  ) {}

  /** Marks this instance alive (again, after a database restart) and adopts the jobs of dead ones. */
  async check(): Promise<void> {
    await this.database.holdLock(this.key);
    for (const owner of await this.repo.otherOwners(this.key)) {
      if (owner !== null && (await this.database.lockHeld(owner))) continue;
      const { adopted, requeued } = await this.repo.adopt(owner, this.key);
      if (adopted + requeued > 0) this.log.warn({ from: owner === null ? null : owner.toString(16), adopted, requeued }, 'took over the jobs of a stopped instance');
    }
    const stale = await this.repo.requeueStale(this.key, new Date(Date.now() - STALE_CLAIM_MS));
    if (stale > 0) this.log.warn({ requeued: stale }, 'requeued jobs whose submission was never recorded');
  }
}
