// Follows submitted tasks until the upstream finishes them: records progress, shows it, and hands finished
// jobs to delivery. Polling is the safety net that always runs (pushed updates arrive through `apply`).
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import type { Provider, UpstreamJob } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import type { TaskRepo } from './repo.ts';

export class Tracker {
  constructor(
    private readonly repo: TaskRepo,
    private readonly provider: Provider,
    private readonly delivery: Delivery,
    private readonly log: Logger,
  ) {}

  async run(): Promise<void> {
    const active = await this.repo.active();
    if (active.length === 0) return;
    const byUpstreamId = new Map(active.map((t) => [t.upstreamId!, t]));
    const jobs = await this.provider.fetch([...byUpstreamId.keys()]);
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
    const task = await this.repo.get(taskId);
    if (!task || !task.upstreamId || task.upstreamId !== job.upstreamId) return 'ignored';
    if (task.status !== 'submitted' && task.status !== 'running') return 'ignored';
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
        task = (await this.repo.update(task.id, {
          status: 'running',
          progress: 100,
          imageUrls: job.imageUrls ?? [],
          actions: job.actions ?? [],
          ...(job.descriptions && { descriptions: job.descriptions }),
          upstreamData: { ...task.upstreamData, ...job.upstreamData },
          lastProgressAt: new Date(),
        })) ?? task;
      }
      await this.delivery.result(task);
      return;
    }
    const progress = Math.max(0, Math.min(99, Math.round(job.progress ?? 0)));
    // An update that arrives late (push and poll race, relays resend) must not move the bar backwards.
    if (progress < task.progress) return;
    const status = job.status === 'running' ? 'running' : task.status;
    if (progress !== task.progress || status !== task.status) {
      task = (await this.repo.update(task.id, { status, progress, lastProgressAt: new Date() })) ?? task;
    }
    this.delivery.progress(task, progress, job.previewUrl);
  }
}
