// Hands queued tasks to the upstream in arrival order, never more at once than the account allows.
// Transient refusals (queue full, rate limit, 5xx, unreachable) are retried with backoff before the job fails.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { isInternalAction } from '../upstream/actions.ts';
import { UpstreamAccountError, UpstreamRejected, type Provider, type SubmitRequest } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import type { TaskRepo } from './repo.ts';

export interface DispatcherOptions {
  account: { id: string; concurrency: number };
  /** Where relays push updates (`${PUBLIC_URL}/upstream/callback`); unset: polling only. */
  callbackBase?: string;
  /** Waits between attempts after a transient refusal; the job fails after the last one. */
  retryDelaysMs?: number[];
  /** Called once a job is in the upstream's hands, so it is polled at once rather than at the next tick. */
  onSubmitted?: () => void;
}

export class Dispatcher {
  private readonly retryDelaysMs: number[];

  constructor(
    private readonly repo: TaskRepo,
    private readonly provider: Provider,
    private readonly delivery: Delivery,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
  ) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [1_000, 3_000, 9_000];
  }

  /** One pass: claim as many queued tasks as there are free slots and submit them. */
  async run(): Promise<void> {
    const { account } = this.opts;
    const free = account.concurrency - (await this.repo.countInFlight(account.id));
    const claimed = await this.repo.claimQueued(free, account.id);
    // Submissions (and their retries) run in the background so the tracker keeps polling meanwhile.
    for (const task of claimed) void this.submit(task);
  }

  private callbackUrl(task: Task): string | undefined {
    if (!this.opts.callbackBase || !this.provider.capabilities.push || !task.callbackToken) return undefined;
    return `${this.opts.callbackBase}/${task.id}/${task.callbackToken}`;
  }

  private async request(task: Task): Promise<SubmitRequest> {
    const callbackUrl = this.callbackUrl(task);
    const images = task.input?.images ?? [];
    const { capabilities } = this.provider;
    if (task.action === 'imagine') {
      if (images.length > 0 && !capabilities.imagePrompts) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'imagine', taskId: task.id, prompt: task.promptUpstream, callbackUrl, ...(images.length > 0 && { images }) };
    }
    if (task.action === 'blend') {
      if (!capabilities.blend) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'blend', taskId: task.id, images, dimensions: task.input?.dimensions ?? 'square', callbackUrl };
    }
    if (task.action === 'describe') {
      if (!capabilities.describe || !images[0]) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'describe', taskId: task.id, image: images[0], callbackUrl };
    }
    const parent = task.parentId ? await this.repo.get(task.parentId) : undefined;
    if (!parent?.upstreamId || !isInternalAction(task.action)) throw new UpstreamRejected('errors.expired');
    return {
      kind: 'action',
      taskId: task.id,
      action: task.action,
      callbackUrl,
      prompt: task.promptUpstream,
      parent: { upstreamId: parent.upstreamId, upstreamData: parent.upstreamData ?? null, imageUrls: parent.imageUrls ?? [], prompt: parent.promptUpstream },
    };
  }

  private async submit(task: Task): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        const submitted = await this.provider.submit(await this.request(task));
        await this.repo.update(task.id, { upstreamId: submitted.upstreamId, upstreamData: submitted.upstreamData ?? null, lastProgressAt: new Date() });
        this.log.info({ taskId: task.id, upstreamId: submitted.upstreamId.slice(0, 64), action: task.action, prompt: task.promptUpstream }, 'task submitted');
        this.opts.onSubmitted?.();
        return;
      } catch (err) {
        if (err instanceof UpstreamRejected) return this.delivery.failure(task, err.message);
        if (err instanceof UpstreamAccountError && err.transient && attempt < this.retryDelaysMs.length) {
          this.log.warn({ taskId: task.id, kind: err.kind, detail: err.message, attempt: attempt + 1 }, 'upstream busy; retrying');
          await sleep(this.retryDelaysMs[attempt]!);
          continue;
        }
        if (err instanceof UpstreamAccountError && !err.transient) {
          // Bad credentials or no balance: only the operator can fix it, so the detail goes to the log.
          this.log.error({ taskId: task.id, kind: err.kind, detail: err.message }, 'upstream account problem: the operator must act');
          return this.delivery.failure(task, 'errors.upstreamAccount');
        }
        this.log.error({ err, taskId: task.id }, 'upstream submit failed');
        return this.delivery.failure(task, 'errors.upstreamUnavailable');
      }
    }
  }
}
