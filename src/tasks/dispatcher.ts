// Dispatch: hands queued tasks to the relay accounts in arrival order, never more at once than an account (or a
// user) allows. A failing account's jobs go back to the queue for the other accounts; with nowhere else to go,
// transient refusals (queue full, rate limit, 5xx, unreachable) are retried with backoff before the job fails.
// Every outcome is recorded through a fenced transition: a submission whose claim was lost meanwhile is an
// orphan (cancelled at its relay where it can be), never recorded as the job's.
import { setTimeout as sleep } from 'node:timers/promises';
import type { Task } from '../db/schema.ts';
import { retryDatabase } from '../db/retry.ts';
import type { Logger } from '../log.ts';
import { timeRelay } from '../metrics.ts';
import { withReferences } from '../prompt/references.ts';
import { VARY_REGION, isInternalAction } from '../upstream/actions.ts';
import type { Account, Accounts } from '../upstream/accounts.ts';
import { failCodeOf, isLocaleKey, type FailCode } from '../upstream/fail-codes.ts';
import { UpstreamAccountError, UpstreamRejected, type AnimateRequest, type InpaintRequest, type Provider, type ShortenRequest, type SubmitRequest, type Submitted } from '../upstream/provider.ts';
import type { ClaimedTask, Lifecycle } from './lifecycle.ts';
import { linksIn, renewLinks, type RefreshLinks, type Renewed } from './links.ts';
import { canRun, hasRoom, place, type Unplaceable } from './placement.ts';
import type { TaskRepo } from './repo.ts';

export interface DispatcherOptions {
  /** This instance's liveness key: the tasks it claims are its to submit and follow. */
  owner: bigint;
  userMaxConcurrent: number;
  /** Where relays push updates (`${PUBLIC_URL}/upstream/callback`); unset: polling only. */
  callbackBase?: string;
  /** Waits between attempts after a transient refusal; the job fails after the last one. */
  retryDelaysMs?: number[];
  /** A job reached its relay: follow it now rather than at the next poll. */
  onSubmitted?: (account: string) => void;
  /** A job went back to the queue (another account may take it now). */
  onRequeued?: () => void;
  /** A final message became due (a job failed). */
  onFinal?: () => void;
  /** Renews Discord attachment links before a job that keeps some goes upstream; unset: sent as stored. */
  refreshLinks?: RefreshLinks;
}

/** Jobs that start from their own input (the others act on their parent's upstream job). */
const OWN_INPUT: ReadonlySet<string> = new Set(['imagine', 'blend', 'describe', 'shorten', 'animate']);

type Outcome = { kind: 'submitted'; submitted: Submitted } | { kind: 'failed'; reason: string; code?: FailCode } | { kind: 'requeue' };

export class Dispatcher {
  private readonly retryDelaysMs: number[];
  /** Submissions under way (with their retries), per account chain: shutdown waits for them, within its grace. */
  private readonly chains = new Map<string, Promise<void>>();
  /** Tasks this process is submitting right now: its own claims that are not lost. */
  readonly submitting = new Set<string>();

  constructor(
    private readonly lifecycle: Lifecycle,
    private readonly repo: TaskRepo,
    private readonly accounts: Accounts,
    private readonly log: Logger,
    private readonly opts: DispatcherOptions,
  ) {
    this.retryDelaysMs = opts.retryDelaysMs ?? [1_000, 3_000, 9_000];
  }

  /** One pass: claim as many queued jobs as accounts and users have room for, oldest first, and start submitting them. */
  async run(): Promise<void> {
    let unplaceable: Unplaceable[] = [];
    const usable = (id: string) => this.accounts.usable(id);
    const claimed = await this.lifecycle.claim(
      this.opts.owner,
      (queued, inFlight) => {
        const decided = place({ queued, inFlight, accounts: this.accounts.list, usable, userMaxConcurrent: this.opts.userMaxConcurrent });
        unplaceable = decided.unplaceable;
        return decided.placements;
      },
      { hasRoom: (inFlight) => hasRoom({ inFlight, accounts: this.accounts.list, usable }) },
    );
    for (const { id, reason } of unplaceable) if (await this.lifecycle.fail(id, reason)) this.opts.onFinal?.();
    // One account's jobs one after another, so they reach its relay in queue order; accounts side by side, and
    // none of it awaited here: a hung relay holds up only its own account's submissions.
    for (const task of claimed) {
      const account = this.accounts.get(task.account)!;
      this.submitting.add(task.id);
      const prev = this.chains.get(account.id) ?? Promise.resolve();
      const next = prev
        .then(() => this.submit(task, account))
        .catch((err: unknown) => this.log.error({ err, taskId: task.id }, 'submission failed'))
        .finally(() => this.submitting.delete(task.id));
      this.chains.set(account.id, next);
      void next.finally(() => {
        if (this.chains.get(account.id) === next) this.chains.delete(account.id);
      });
    }
  }

  /** Resolves when no submission is under way. One cut short by shutdown is requeued by the next start. */
  async idle(): Promise<void> {
    while (this.chains.size > 0) await Promise.allSettled([...this.chains.values()]);
  }

  private callbackUrl(task: Task, provider: Provider): string | undefined {
    if (!this.opts.callbackBase || !provider.capabilities.push || !task.callbackToken) return undefined;
    return `${this.opts.callbackBase}/${task.id}/${task.callbackToken}`;
  }

  /** The stored links among `urls` renewed (logged when some were). */
  private async renew(task: Task, urls: string[]): Promise<Renewed> {
    const renewed = await renewLinks(this.opts.refreshLinks, urls);
    if (renewed.count > 0) this.log.info({ taskId: task.id, links: renewed.count }, 'renewed Discord attachment links');
    return renewed;
  }

  private async request(task: Task, provider: Provider): Promise<SubmitRequest | InpaintRequest | ShortenRequest | AnimateRequest> {
    const callbackUrl = this.callbackUrl(task, provider);
    const stored = task.input ?? { images: [] };
    const mode = task.mode ?? undefined;
    const { capabilities } = provider;
    // What users attached (and links they typed) as Discord links that work now, not as stored a day ago.
    const ownLinks = [...stored.images.map((i) => i.url), ...(stored.refs ?? []).map((r) => r.url), ...linksIn(task.promptUpstream)];
    const renewed = ownLinks.length > 0 && OWN_INPUT.has(task.action) ? await this.renew(task, ownLinks) : undefined;
    const images = stored.images.map((i) => ({ ...i, url: renewed?.link(i.url) ?? i.url }));
    if (task.action === 'imagine') {
      if (images.length > 0 && !capabilities.imagePrompts) throw new UpstreamRejected('images:errors.unsupported');
      const refs = stored.refs?.map((r) => ({ ...r, url: renewed?.link(r.url) ?? r.url }));
      const prompt = withReferences(renewed?.text(task.promptUpstream) ?? task.promptUpstream, refs);
      return { kind: 'imagine', taskId: task.id, prompt, callbackUrl, ...(images.length > 0 && { images }), ...(mode && { mode }) };
    }
    if (task.action === 'blend') {
      if (!capabilities.blend) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'blend', taskId: task.id, images, dimensions: task.input?.dimensions ?? 'square', callbackUrl, ...(mode && { mode }) };
    }
    if (task.action === 'describe') {
      if (!capabilities.describe || !images[0]) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'describe', taskId: task.id, image: images[0], callbackUrl };
    }
    if (task.action === 'shorten') {
      if (!capabilities.shorten || !provider.shorten) throw new UpstreamRejected('images:errors.unsupported');
      return { kind: 'shorten', taskId: task.id, prompt: renewed?.text(task.promptUpstream) ?? task.promptUpstream, callbackUrl };
    }
    if (task.action === 'animate') {
      if (!capabilities.animateImages || !provider.animate || !images[0]) throw new UpstreamRejected('images:errors.unsupported');
      const video = stored.video ?? { motion: 'low' };
      const prompt = renewed?.text(task.promptUpstream) ?? task.promptUpstream;
      return { kind: 'animate', taskId: task.id, image: images[0], ...(images[1] && { endImage: images[1] }), motion: video.motion, prompt, loop: Boolean(video.loop), callbackUrl };
    }
    const parent = task.parentId ? await this.repo.get(task.parentId) : undefined;
    if (parent?.upstreamId && task.action === VARY_REGION) {
      // The mask travels on the row (drawn in the editor page); a relay that cannot inpaint never gets the job.
      if (!capabilities.inpaint || !provider.inpaint || !task.input?.mask) throw new UpstreamRejected('errors.actionUnavailable');
      const ref = { upstreamId: parent.upstreamId, upstreamData: parent.upstreamData ?? null, imageUrls: parent.imageUrls ?? [], prompt: parent.promptUpstream };
      return { kind: 'inpaint', taskId: task.id, parent: ref, prompt: task.promptUpstream, mask: Buffer.from(task.input.mask, 'base64'), callbackUrl };
    }
    if (!parent?.upstreamId || !isInternalAction(task.action)) throw new UpstreamRejected('errors.expired');
    // The parent's reference images belong to both prompts (relays that redraw, remix or zoom send them again),
    // and every Discord link in them is renewed: a 🔄 a day later must not send the links as stored.
    const parentRefs = parent.input?.refs ?? [];
    const links = await this.renew(task, [...parentRefs.map((r) => r.url), ...linksIn(parent.promptUpstream), ...linksIn(task.promptUpstream)]);
    const refs = parentRefs.map((r) => ({ ...r, url: links.link(r.url) }));
    return {
      kind: 'action',
      taskId: task.id,
      action: task.action,
      callbackUrl,
      prompt: withReferences(links.text(task.promptUpstream), refs),
      parent: {
        upstreamId: parent.upstreamId,
        upstreamData: parent.upstreamData ?? null,
        imageUrls: parent.imageUrls ?? [],
        prompt: withReferences(links.text(parent.promptUpstream), refs),
      },
    };
  }

  /** Another account could run this job now (it is not tied to this account's upstream jobs). */
  private canMove(task: Task, from: Account): boolean {
    if (task.parentId) return false;
    const shape = { action: task.action, mode: task.mode, hasImages: (task.input?.images.length ?? 0) > 0, hasPrompt: task.promptUpstream.trim() !== '' };
    return this.accounts.list.some((a) => a.id !== from.id && this.accounts.usable(a.id) && canRun(a, shape));
  }

  private async submit(task: ClaimedTask, account: Account): Promise<void> {
    // A job claimed before may have reached its relay (a crash, a timeout, a lost claim): ask the relay first.
    const earlier = task.claim > 1 ? await this.lookup(task, account) : undefined;
    const outcome: Outcome = earlier ? { kind: 'submitted', submitted: earlier } : await this.attempt(task, account);
    // What happened at the relay must reach the database, even across a database restart: the job exists now.
    await this.persist(task.id, async () => {
      if (outcome.kind === 'failed') {
        if (await this.lifecycle.fail(task.id, outcome.reason, { claim: task.claim }, outcome.code)) this.opts.onFinal?.();
        return;
      }
      if (outcome.kind === 'requeue') {
        if (await this.lifecycle.requeue(task, false)) this.opts.onRequeued?.();
        return;
      }
      const { submitted } = outcome;
      if (await this.lifecycle.submitted(task, submitted.upstreamId, submitted.upstreamData)) {
        this.log.info({ taskId: task.id, account: account.id, upstreamId: submitted.upstreamId.slice(0, 64), action: task.action, prompt: task.promptUpstream, found: Boolean(earlier) }, 'task submitted');
        this.opts.onSubmitted?.(account.id);
        return;
      }
      await this.orphan(task, account, submitted.upstreamId);
    });
  }

  /** The relay's job for this task, if it has one and can say so; a failed look-up counts as "none". */
  private async lookup(task: Task, account: Account): Promise<Submitted | undefined> {
    const { provider } = account;
    if (!provider.lookup) return undefined;
    try {
      const job = await timeRelay(account.id, 'lookup', () => provider.lookup!(task.id));
      if (job) this.log.warn({ taskId: task.id, account: account.id, upstreamId: job.upstreamId.slice(0, 64) }, 'the relay already had this job: not submitting it again');
      return job && { upstreamId: job.upstreamId, upstreamData: job.upstreamData };
    } catch (err) {
      this.log.warn({ err, taskId: task.id, account: account.id }, 'could not ask the relay whether it has the job');
      return undefined;
    }
  }

  /** A relay job whose claim was lost while it was being submitted: stop it where the relay can, log it either way. */
  private async orphan(task: Task, account: Account, upstreamId: string): Promise<void> {
    const cancel = account.provider.cancel?.bind(account.provider);
    let cancelled = false;
    if (cancel) cancelled = await cancel(upstreamId).then(() => true, () => false);
    this.log.warn({ taskId: task.id, account: account.id, upstreamId: upstreamId.slice(0, 64), cancelled }, 'submission finished after its claim was lost: the relay job is not this task\'s');
  }

  /** Hands the job to the account's relay, retrying transient refusals; decides what becomes of it. */
  private async attempt(task: Task, account: Account): Promise<Outcome> {
    const { provider } = account;
    for (let attempt = 0; ; attempt++) {
      try {
        const request = await this.persist(task.id, () => this.request(task, provider));
        const submitted = await timeRelay(account.id, 'submit', () => submitAt(provider, request));
        this.accounts.recordSuccess(account.id);
        return { kind: 'submitted', submitted };
      } catch (err) {
        if (err instanceof UpstreamRejected) return { kind: 'failed', reason: err.message, code: err.code ?? (isLocaleKey(err.message) ? undefined : failCodeOf(err.message)) };
        if (!(err instanceof UpstreamAccountError)) {
          this.log.error({ err, taskId: task.id, account: account.id }, 'upstream submit failed');
          return { kind: 'failed', reason: 'errors.upstreamUnavailable' };
        }
        // No answer (a timeout, a reset, a 5xx) does not say the relay did not take the job: ask before trying again.
        if (err.kind === 'unavailable') {
          const found = await this.lookup(task, account);
          if (found) return { kind: 'submitted', submitted: found };
        }
        const pausedUntil = this.accounts.recordFailure(account.id, err);
        const level = err.transient ? 'warn' : 'error';
        if (pausedUntil) this.log[level]({ account: account.id, kind: err.kind, detail: err.message, until: pausedUntil.toISOString() }, 'upstream account paused');
        if (this.canMove(task, account)) {
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
}

/** Each request to its method: Vary (Region), /shorten and /animate go to the provider's own (only relays with the capability have one). */
async function submitAt(provider: Provider, request: SubmitRequest | InpaintRequest | ShortenRequest | AnimateRequest): Promise<Submitted> {
  switch (request.kind) {
    case 'inpaint':
      return provider.inpaint!(request);
    case 'shorten':
      if (!provider.shorten) throw new UpstreamRejected('images:errors.unsupported');
      return provider.shorten(request);
    case 'animate':
      if (!provider.animate) throw new UpstreamRejected('images:errors.unsupported');
      return provider.animate(request);
    default:
      return provider.submit(request);
  }
}
