// Hands queued tasks to the relay accounts in arrival order, never more at once than an account (or a user)
// allows. A failing account's jobs go back to the queue for the other accounts; with nowhere else to go,
// transient refusals (queue full, rate limit, 5xx, unreachable) are retried with backoff before the job fails.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Task } from '../db/schema.ts';
import { retryDatabase } from '../db/retry.ts';
import type { Logger } from '../log.ts';
import { timeRelay } from '../metrics.ts';
import { isInternalAction } from '../upstream/actions.ts';
import type { Account, Accounts } from '../upstream/accounts.ts';
import { UpstreamAccountError, UpstreamRejected, type Provider, type SubmitRequest, type Submitted } from '../upstream/provider.ts';
import type { Delivery } from './delivery.ts';
import { canRun, place, type Unplaceable } from './placement.ts';
import type { TaskRepo } from './repo.ts';

export interface DispatcherOptions {
  /** This instance's liveness key: the tasks it claims are its to submit and follow. */
  owner: bigint;
  userMaxConcurrent: number;
  /** Where relays push updates (`${PUBLIC_URL}/upstream/callback`); unset: polling only. */
  callbackBase?: string;
  /** Waits between attempts after a transient refusal; the job fails after the last one. */
  retryDelaysMs?: number[];
  /** Called once a job is in the upstream's hands, so it is polled at once rather than at the next tick. */
  onSubmitted?: () => void;
  /** Called when a job went back to the queue (another account may take it now). */
  onRequeued?: () => void;
}

type Outcome = { kind: 'submitted'; submitted: Submitted } | { kind: 'failed'; reason: string } | { kind: 'requeue' };

export class Dispatcher {
  private readonly retryDelaysMs: number[];
  /** Submissions under way (with their retries): shutdown waits for them, within its grace. */
  private readonly submitting = new Set<Promise<void>>();

  constructor(
    private readonly repo: TaskRepo,
    private readonly accounts: Accounts,
    private readonly delivery: Delivery,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
  ) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [1_000, 3_000, 9_000];
  }

  /** One pass: start as many queued jobs as accounts and users have room for, oldest first. */
  async run(): Promise<void> {
    let unplaceable: Unplaceable[] = [];
    const claimed = await this.repo.claim(this.opts.owner, (queued, inFlight) => {
      const decided = place({
        queued,
        inFlight,
        accounts: this.accounts.list,
        usable: (id) => this.accounts.usable(id),
        userMaxConcurrent: this.opts.userMaxConcurrent,
      });
      unplaceable = decided.unplaceable;
      return decided.placements;
    });
    for (const { id, reason } of unplaceable) {
      const task = await this.repo.markFailed(id, reason);
      if (task) await this.delivery.failure(task, reason, { recorded: true });
    }
    // Submissions (and their retries) run in the background so the tracker keeps polling meanwhile: one
    // account's jobs one after another, so they reach its relay in queue order; accounts side by side.
    const byAccount = new Map<string, Task[]>();
    for (const task of claimed) byAccount.set(task.account!, [...(byAccount.get(task.account!) ?? []), task]);
    for (const [accountId, batch] of byAccount) {
      const account = this.accounts.get(accountId)!;
      const submission = (async () => {
        for (const task of batch) await this.submit(task, account).catch((err: unknown) => this.log.error({ err, taskId: task.id }, 'submission failed'));
      })();
      this.submitting.add(submission);
      void submission.finally(() => this.submitting.delete(submission));
    }
  }

  /** Resolves when no submission is under way. One cut short by shutdown is requeued by the next start (see Instance). */
  async idle(): Promise<void> {
    while (this.submitting.size > 0) await Promise.allSettled([...this.submitting]);
  }

  private callbackUrl(task: Task, provider: Provider): string | undefined {
    if (!this.opts.callbackBase || !provider.capabilities.push || !task.callbackToken) return undefined;
    return `${this.opts.callbackBase}/${task.id}/${task.callbackToken}`;
  }

  private async request(task: Task, provider: Provider): Promise<SubmitRequest> {
    const callbackUrl = this.callbackUrl(task, provider);
    const images = task.input?.images ?? [];
    const mode = task.mode ?? undefined;
    const { capabilities } = provider;
    if (task.action === 'imagine') {
      if (images.length > 0 && !capabilities.imagePrompts) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'imagine', taskId: task.id, prompt: task.promptUpstream, callbackUrl, ...(images.length > 0 && { images }), ...(mode && { mode }) };
    }
    if (task.action === 'blend') {
      if (!capabilities.blend) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'blend', taskId: task.id, images, dimensions: task.input?.dimensions ?? 'square', callbackUrl, ...(mode && { mode }) };
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

  /** Another account could run this job now (it is not tied to this account's upstream jobs). */
  private canMove(task: Task, from: Account): boolean {
    if (task.parentId) return false;
    const shape = { action: task.action, mode: task.mode, hasImages: (task.input?.images.length ?? 0) > 0 };
    return this.accounts.list.some((a) => a.id !== from.id && this.accounts.usable(a.id) && canRun(a, shape));
  }

  private async submit(task: Task, account: Account): Promise<void> {
    const outcome = await this.attempt(task, account);
    // What happened at the relay must reach the database, even across a database restart: the job exists now.
    await this.persist(task.id, async () => {
      if (outcome.kind === 'failed') return this.fail(task, outcome.reason);
      if (outcome.kind === 'requeue') {
        await this.repo.requeue(task.id, false);
        return this.opts.onRequeued?.();
      }
      const { submitted } = outcome;
      await this.repo.recordSubmitted(task.id, submitted.upstreamId, submitted.upstreamData);
      this.log.info({ taskId: task.id, account: account.id, upstreamId: submitted.upstreamId.slice(0, 64), action: task.action, prompt: task.promptUpstream }, 'task submitted');
      this.opts.onSubmitted?.();
    });
  }

  /** Hands the job to the account's relay, retrying transient refusals; decides what becomes of it. */
  private async attempt(task: Task, account: Account): Promise<Outcome> {
    const { provider } = account;
    for (let attempt = 0; ; attempt++) {
      try {
        const request = await this.persist(task.id, () => this.request(task, provider));
        const submitted = await timeRelay(account.id, 'submit', () => provider.submit(request));
        this.accounts.recordSuccess(account.id);
        return { kind: 'submitted', submitted };
      } catch (err) {
        if (err instanceof UpstreamRejected) return { kind: 'failed', reason: err.message };
        if (!(err instanceof UpstreamAccountError)) {
          this.log.error({ err, taskId: task.id, account: account.id }, 'upstream submit failed');
          return { kind: 'failed', reason: 'errors.upstreamUnavailable' };
        }
        const pausedUntil = this.accounts.recordFailure(account.id, err);
        const level = err.transient ? 'warn' : 'error';
        if (pausedUntil) this.log[level]({ account: account.id, kind: err.kind, detail: err.message, until: pausedUntil.toISOString() }, 'upstream account paused');
        if (this.canMove(task, account)) {
          // Another account can take it: back to the queue, where the next pass places it elsewhere.
          this.log[level]({ taskId: task.id, account: account.id, kind: err.kind, detail: err.message }, 'upstream account failed; job moves to another account');
          return { kind: 'requeue' };
        }
        if (err.transient && attempt < this.retryDelaysMs.length) {
          this.log.warn({ taskId: task.id, account: account.id, kind: err.kind, detail: err.message, attempt: attempt + 1 }, 'upstream busy; retrying');
          await sleep(this.retryDelaysMs[attempt]!);
          continue;
        }
        if (!err.transient) {
          // Bad credentials or no balance: only the operator can fix it, so the detail goes to the log.
          this.log.error({ taskId: task.id, account: account.id, kind: err.kind, detail: err.message }, 'upstream account problem: the operator must act');
          return { kind: 'failed', reason: 'errors.upstreamAccount' };
        }
        this.log.error({ taskId: task.id, account: account.id, kind: err.kind, detail: err.message }, 'upstream submit failed');
        return { kind: 'failed', reason: 'errors.upstreamUnavailable' };
      }
    }
  }

  /** A database step retried through a database restart (see retryDatabase); relay refusals pass straight through. */
  private persist<T>(taskId: string, step: () => Promise<T>): Promise<T> {
    return retryDatabase(step, { log: this.log, context: { taskId }, passThrough: (err) => err instanceof UpstreamRejected || err instanceof UpstreamAccountError });
  }

  private async fail(task: Task, reason: string): Promise<void> {
    const failed = await this.repo.markFailed(task.id, reason);
    if (failed) await this.delivery.failure(failed, reason, { recorded: true });
  }
}
