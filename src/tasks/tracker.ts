// Follows submitted tasks until the upstream finishes them: records progress, shows it, and hands finished
// jobs to delivery. Polling is the safety net that always runs (pushed updates arrive through `apply`).
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { timeRelay } from '../metrics.ts';
import type { Accounts } from '../upstream/accounts.ts';
import type { UpstreamJob } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import type { TaskRepo } from './repo.ts';

export class Tracker {
  constructor(
    private readonly repo: TaskRepo,
    private readonly accounts: Accounts,
    private readonly delivery: Delivery,
    private readonly log: Logger,
    /** This instance: it follows the jobs it submitted (or adopted from a dead instance), no others. */
    private readonly owner: bigint,
  ) {}

  async run(): Promise<void> {
    const active = await this.repo.active(this.owner);
    if (active.length === 0) return;
    const byAccount = new Map<string, Task[]>();
    for (const task of active) {
      const account = task.account ?? this.accounts.primary.id;
      byAccount.set(account, [...(byAccount.get(account) ?? []), task]);
    }
    // Accounts are polled side by side: one slow relay must not hold up the others' progress.
    await Promise.all([...byAccount].map(([account, tasks]) => this.poll(account, tasks)));
  }

  private async poll(accountId: string, tasks: Task[]): Promise<void> {
    const account = this.accounts.get(accountId);
    // An account removed from the configuration: its jobs cannot be followed; the stuck-job sweep ends them.
    if (!account) return void this.log.warn({ account: accountId, tasks: tasks.length }, 'jobs on an account that is no longer configured');
    const byUpstreamId = new Map(tasks.map((t) => [t.upstreamId!, t]));
    let jobs: UpstreamJob[];
    try {
      jobs = await timeRelay(accountId, 'fetch', () => account.provider.fetch([...byUpstreamId.keys()]));
    } catch (err) {
      return void this.log.warn({ err, account: accountId }, 'polling the relay failed; trying again next tick');
    }
    await Promise.all(jobs.map((job) => {
      const task = byUpstreamId.get(job.upstreamId);
      return task ? this.apply(task, job) : undefined;
    }));
  }

  /**
   * A pushed update for one task (the webhook receiver checked its secret). Duplicates and stale updates
   * are harmless: finished tasks ignore them and progress never goes backwards.
   */
  async applyPushed(taskId: string, job: UpstreamJob): Promise<'applied' | 'ignored'> {
    let task = await this.repo.get(taskId);
    if (!task || (task.upstreamId && task.upstreamId !== job.upstreamId)) return 'ignored';
    if (task.status !== 'submitted' && task.status !== 'running') return 'ignored';
    // The relay called back before the dispatcher stored the job's id: the URL's secret already proved whose
    // job it is, so take the id from the update rather than drop it (relays that do not retry would never resend).
    if (!task.upstreamId) task = (await this.repo.update(task.id, { upstreamId: job.upstreamId })) ?? task;
    // Another instance follows this job and shows its progress; a final result is safe to take (delivery leases it).
    if (task.claimedBy !== this.owner && job.status !== 'succeeded' && job.status !== 'failed') return 'ignored';
    await this.apply(task, job);
    return 'applied';
  }

  async apply(task: Task, job: UpstreamJob): Promise<void> {
    if (task.status !== 'submitted' && task.status !== 'running') return;
    if (job.status === 'failed') {
      await this.delivery.failure(task, job.failReason?.trim() || 'errors.upstreamUnavailable');
      return;
    }
    if (job.status === 'succeeded') {
      // Store the result first: if delivery fails or we crash, the next tick (or restart) delivers it again.
      if (!task.imageUrls) {
        // Only while still active: a poll that read the task before a pushed result was delivered (or before a
        // cancel) must not set it back to running — it would be delivered twice, or revived.
        const stored = await this.repo.updateActive(task.id, {
          status: 'running',
          progress: 100,
          imageUrls: job.imageUrls ?? [],
          actions: job.actions ?? [],
          ...(job.descriptions && { descriptions: job.descriptions }),
          upstreamData: { ...task.upstreamData, ...job.upstreamData },
          lastProgressAt: new Date(),
        });
        if (!stored) return;
        task = stored;
      }
      await this.delivery.result(task);
      return;
    }
    const progress = Math.max(0, Math.min(99, Math.round(job.progress ?? 0)));
    // An update that arrives late (push and poll race, relays resend) must not move the bar backwards.
    if (progress < task.progress) return;
    const status = job.status === 'running' ? 'running' : task.status;
    if (progress !== task.progress || status !== task.status) {
      const stored = await this.repo.updateActive(task.id, { status, progress, lastProgressAt: new Date() });
      if (!stored) return;
      task = stored;
    }
    this.delivery.progress(task, progress, job.previewUrl);
  }
}
