// Housekeeping inside the bot: the scheduled cleanup (CLEANUP_CRON: fail stuck jobs, then purge tasks past
// TASK_RETENTION_DAYS) and a frequent sweep that fails stuck jobs (a quarter of JOB_TIMEOUT_MINUTES, at most a
// minute apart), so a lost job is reported soon rather than at the next cleanup. `npm run purge` and
// /draw-admin purge call the same purgeTasks.
import cron, { type ScheduledTask } from 'node-cron';
import type { Database } from '../db/client.ts';
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { QUEUE_TIMEOUT_REASON, STALLED_REASON, TOO_LONG_REASON, type Lifecycle } from '../tasks/lifecycle.ts';
import { purgeTasks, type PurgeOptions, type PurgeReport } from './purge.ts';

/** Advisory lock id of the scheduled cleanup: one instance runs it, the others skip that run. */
export const CLEANUP_LOCK_KEY = 0x6d6a_626f_7401n;
/** A progress line every this many batches of a long purge. */
const LOG_EVERY_BATCHES = 100;
const MINUTE_MS = 60_000;

export interface MaintenanceOptions {
  retentionDays: number;
  /** A node-cron expression, or 'off' (run `npm run purge` from the system's cron instead). */
  cleanupCron: string;
  jobTimeoutMinutes: number;
  /** A running job is failed after this long even if it still reports progress. */
  jobMaxMinutes: number;
  queueTimeoutMinutes: number;
}

/** How often the stuck-job sweep runs: often enough for the stall timeout, never more than once a second. */
export function sweepIntervalMs(jobTimeoutMinutes: number): number {
  return Math.max(1_000, Math.min(MINUTE_MS, (jobTimeoutMinutes * MINUTE_MS) / 4));
}

export interface StuckReport {
  stalled: number;
  tooLong: number;
  queued: number;
}

export interface CleanupReport {
  stuck: StuckReport;
  purge: PurgeReport;
}

export class Maintenance {
  private readonly jobs: ScheduledTask[] = [];
  private readonly inFlight = new Set<Promise<unknown>>();
  private sweepTimer: NodeJS.Timeout | undefined;

  constructor(
    private readonly database: Pick<Database, 'db' | 'withSessionLock'>,
    private readonly lifecycle: Pick<Lifecycle, 'failStuck'>,
    /** Final messages became due (their failures): the outbox should look now. */
    private readonly onFinal: () => void,
    private readonly log: Logger,
    private readonly opts: MaintenanceOptions,
  ) {}

  /** Call before the engine starts: jobs that waited past the queue cap while the bot was down fail instead of starting. */
  async start(): Promise<void> {
    // Stalled running jobs are left to the first minute sweep: the tracker may find them finished first.
    await this.track(this.failStuck({ queuedOnly: true })).catch((err) => this.log.error({ err }, 'stuck-job sweep failed'));
    const logger = {
      info: (m: string) => this.log.debug({ cron: m }, 'node-cron'),
      warn: (m: string) => this.log.warn({ cron: m }, 'node-cron'),
      error: (m: string | Error, err?: Error) => this.log.error({ err: err ?? m }, 'node-cron'),
      debug: (m: string | Error) => this.log.trace({ cron: String(m) }, 'node-cron'),
    };
    const every = (expression: string, name: string, run: () => Promise<unknown>) =>
      this.jobs.push(cron.schedule(expression, () => this.track(run()).catch((err) => this.log.error({ err }, `${name} failed`)), { name, noOverlap: true, logger }));
    if (this.opts.cleanupCron !== 'off') every(this.opts.cleanupCron, 'cleanup', () => this.cleanup());
    const sweep = () => {
      this.sweepTimer = setTimeout(() => {
        void this.track(this.failStuck())
          .catch((err) => this.log.error({ err }, 'stuck-job sweep failed'))
          .finally(() => this.sweepTimer && sweep());
      }, sweepIntervalMs(this.opts.jobTimeoutMinutes));
    };
    sweep();
    this.log.info({ cleanupCron: this.opts.cleanupCron, retentionDays: this.opts.retentionDays }, 'maintenance scheduled');
  }

  async stop(): Promise<void> {
    clearTimeout(this.sweepTimer);
    this.sweepTimer = undefined;
    for (const job of this.jobs.splice(0)) await job.destroy();
    await Promise.allSettled([...this.inFlight]);
  }

  /** The scheduled run. Resolves undefined when another instance (or another run of this one) holds the cleanup lock. */
  async cleanup(): Promise<CleanupReport | undefined> {
    const started = performance.now();
    const run = await this.database.withSessionLock(CLEANUP_LOCK_KEY, async () => {
      const stuck = await this.failStuck();
      const purge = await this.purge({
        olderThanDays: this.opts.retentionDays,
        onBatch: ({ batches, deleted }) => {
          if (batches % LOG_EVERY_BATCHES === 0) this.log.info({ batches, deleted }, 'cleanup in progress');
        },
      });
      return { stuck, purge };
    });
    if (!run.locked) {
      this.log.info('cleanup skipped: another instance is running it');
      return undefined;
    }
    const { stuck, purge } = run.value;
    this.log.info(
      {
        deleted: purge.count,
        batches: purge.batches,
        cutoff: purge.cutoff.toISOString(),
        retentionDays: this.opts.retentionDays,
        failedStalled: stuck.stalled,
        failedTooLong: stuck.tooLong,
        failedQueued: stuck.queued,
        durationMs: Math.round(performance.now() - started),
      },
      'cleanup finished',
    );
    return run.value;
  }

  /**
   * Fails stuck jobs; their users are told through the outbox, in their language. Safe to run on every instance.
   * Stalled: the relay has shown no sign of the job for JOB_TIMEOUT_MINUTES (a relay that still lists it, even
   * queued at 0 %, keeps it alive). Too long: running at the relay for JOB_MAX_MINUTES. Queued too long.
   */
  async failStuck(opts: { queuedOnly?: boolean } = {}): Promise<StuckReport> {
    const now = Date.now();
    const stuck = await this.lifecycle.failStuck({
      stalledBefore: opts.queuedOnly ? undefined : new Date(now - this.opts.jobTimeoutMinutes * MINUTE_MS),
      runningBefore: opts.queuedOnly ? undefined : new Date(now - this.opts.jobMaxMinutes * MINUTE_MS),
      queuedBefore: new Date(now - this.opts.queueTimeoutMinutes * MINUTE_MS),
    });
    const report = { stalled: 0, tooLong: 0, queued: 0 };
    const kind = { [QUEUE_TIMEOUT_REASON]: 'queued', [STALLED_REASON]: 'stalled', [TOO_LONG_REASON]: 'tooLong' } as const;
    for (const task of stuck) report[kind[task.failReason as keyof typeof kind]] += 1;
    if (stuck.length > 0) this.log.warn({ ...report, taskIds: stuck.slice(0, 50).map((t: Task) => t.id) }, 'stuck jobs failed');
    // Failed jobs never count toward quotas: a timed-out job costs the user nothing.
    if (stuck.length > 0) this.onFinal();
    return report;
  }

  /** Deletes finished tasks (see purgeTasks): for /draw-admin purge. */
  purge(opts: PurgeOptions): Promise<PurgeReport> {
    return purgeTasks(this.database.db, opts);
  }

  private track<T>(p: Promise<T>): Promise<T> {
    this.inFlight.add(p);
    void p.finally(() => this.inFlight.delete(p)).catch(() => undefined);
    return p;
  }
}
