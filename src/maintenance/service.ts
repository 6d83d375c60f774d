// Housekeeping inside the bot: the scheduled cleanup (CLEANUP_CRON: fail stuck jobs, then purge tasks past
// TASK_RETENTION_DAYS) and a sweep every minute that fails stuck jobs, so a lost job is reported within
// minutes rather than at the next cleanup. `npm run purge` and /draw-admin purge call the same purgeTasks.
import cron, { type ScheduledTask } from 'node-cron';
import type { Database } from '../db/client.ts';
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { Delivery } from '../tasks/delivery.ts';
import { purgeTasks, type PurgeOptions, type PurgeReport } from './purge.ts';
import type { Instance } from '../tasks/instance.ts';
import { QUEUE_TIMEOUT_REASON, STALLED_REASON, TOO_LONG_REASON, claimStuckTasks } from './stuck.ts';

/** Advisory lock id of the scheduled cleanup: one instance runs it, the others skip that run. */
export const CLEANUP_LOCK_KEY = 0x6d6a_626f_7401n;
const STUCK_SWEEP_CRON = '* * * * *';
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
  /** Run with every sweep: this instance's liveness mark and the adoption of dead instances' jobs. */
  instance?: Pick<Instance, 'check'>;
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
  private cleaning: Promise<CleanupReport | undefined> | undefined;

  constructor(
    private readonly database: Pick<Database, 'db' | 'withSessionLock'>,
    private readonly delivery: Pick<Delivery, 'failure'>,
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
    every(STUCK_SWEEP_CRON, 'stuck-job sweep', async () => {
      // Adopting a dead instance's jobs first lets them finish rather than be failed as stalled.
      await this.opts.instance?.check();
      await this.failStuck();
    });
    this.log.info({ cleanupCron: this.opts.cleanupCron, retentionDays: this.opts.retentionDays }, 'maintenance scheduled');
  }

  async stop(): Promise<void> {
    for (const job of this.jobs.splice(0)) await job.destroy();
    await Promise.allSettled([...this.inFlight]);
  }

  /** The scheduled run. Resolves undefined when another instance holds the cleanup lock. */
  cleanup(): Promise<CleanupReport | undefined> {
    // PGlite's single session re-enters its own advisory lock: keep one run per process here.
    this.cleaning ??= this.runCleanup().finally(() => (this.cleaning = undefined));
    return this.cleaning;
  }

  private async runCleanup(): Promise<CleanupReport | undefined> {
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

  /** Fails stuck jobs and tells their users (through delivery, in their language). Safe to run on every instance. */
  async failStuck(opts: { queuedOnly?: boolean } = {}): Promise<StuckReport> {
    const now = new Date();
    const stuck = await claimStuckTasks(
      this.database.db,
      {
        stalledBefore: opts.queuedOnly ? undefined : new Date(now.getTime() - this.opts.jobTimeoutMinutes * MINUTE_MS),
        startedBefore: opts.queuedOnly ? undefined : new Date(now.getTime() - this.opts.jobMaxMinutes * MINUTE_MS),
        queuedBefore: new Date(now.getTime() - this.opts.queueTimeoutMinutes * MINUTE_MS),
      },
      now,
    );
    const report = { stalled: 0, tooLong: 0, queued: 0 };
    const kind = { [QUEUE_TIMEOUT_REASON]: 'queued', [STALLED_REASON]: 'stalled', [TOO_LONG_REASON]: 'tooLong' } as const;
    for (const task of stuck) report[kind[task.failReason as keyof typeof kind]] += 1;
    if (stuck.length > 0) this.log.warn({ ...report, taskIds: stuck.slice(0, 50).map((t: Task) => t.id) }, 'stuck jobs failed');
    // Failed jobs never count toward quotas: a timed-out job costs the user nothing.
    await Promise.all(stuck.map((task) => this.delivery.failure(task, task.failReason!, { recorded: true })));
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
