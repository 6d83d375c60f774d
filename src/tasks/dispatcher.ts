// Hands queued tasks to the upstream in arrival order, never more at once than the account allows.
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { isInternalAction } from '../upstream/actions.ts';
import { UpstreamRejected, type Provider, type SubmitRequest } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import type { TaskRepo } from './repo.ts';

export class Dispatcher {
  constructor(
    private readonly repo: TaskRepo,
    private readonly provider: Provider,
    private readonly delivery: Delivery,
    private readonly log: Logger,
    private readonly account: { id: string; concurrency: number },
  ) {}

  /** One pass: claim as many queued tasks as there are free slots and submit them. */
  async run(): Promise<void> {
    const free = this.account.concurrency - (await this.repo.countInFlight(this.account.id));
    const claimed = await this.repo.claimQueued(free, this.account.id);
    await Promise.all(claimed.map((task) => this.submit(task)));
  }

  private async request(task: Task): Promise<SubmitRequest> {
    if (task.action === 'imagine') return { kind: 'imagine', taskId: task.id, prompt: task.promptUpstream };
    const parent = task.parentId ? await this.repo.get(task.parentId) : undefined;
    if (!parent?.upstreamId || !isInternalAction(task.action)) throw new UpstreamRejected('errors.expired');
    return {
      kind: 'action',
      taskId: task.id,
      action: task.action,
      parent: { upstreamId: parent.upstreamId, upstreamData: parent.upstreamData ?? null, imageUrls: parent.imageUrls ?? [], prompt: parent.promptUpstream },
    };
  }

  private async submit(task: Task): Promise<void> {
    try {
      const submitted = await this.provider.submit(await this.request(task));
      await this.repo.update(task.id, { upstreamId: submitted.upstreamId, upstreamData: submitted.upstreamData ?? null });
      this.log.info({ taskId: task.id, upstreamId: submitted.upstreamId.slice(0, 64), action: task.action }, 'task submitted');
    } catch (err) {
      if (err instanceof UpstreamRejected) {
        await this.delivery.failure(task, err.message);
      } else {
        this.log.error({ err, taskId: task.id }, 'upstream submit failed');
        await this.delivery.failure(task, 'errors.upstreamUnavailable');
      }
    }
  }
}
