// The task lifecycle: the ONLY module that writes to `tasks` (rows are inserted by the accept path, src/tasks/accept.ts,
// in the transaction that counts the quotas). Every write is a named transition whose guard is part of the SQL
// itself and which reports whether it happened; a caller whose guard failed drops its work. That is what makes
// "every accepted job ends in exactly one final message" checkable, and crashes and races harmless.
//
//  transition        from (guard)                                          to
//  ───────────────── ───────────────────────────────────────────────────── ─────────────────────────────────────
//  claim             queued (FOR UPDATE SKIP LOCKED, placement lock)       claimed, claim + 1, claimed_by = me
//  submitted         claimed with this claim number (or already recorded   submitted, upstream_id
//                    with the same upstream id by an early push)
//  pushedEarly       claimed (the callback's secret names the task)        submitted, upstream_id
//  requeue           claimed with this claim number                        queued, nobody's
//  progress          submitted|running, this upstream id, no result        running (running_since), progress ↑
//  seen / missed     submitted|running, no result                          last_seen_at / missed_polls + 1
//  resultStored      submitted|running, this upstream id, no result        running + result, final message due
//  fail              not final, no result (opt. this claim / upstream id)  failed (reason, relay code), message due
//  cancel            the given statuses, no result                         cancelled, final message due
//  adopt             a dead instance's rows                                claimed → queued; the rest → mine, lease void
//  leaseDeliveries   final message due, mine or nobody's, lease free       lease taken; unsure if the last lease ran out
//  delivered         this lease                                            running + result → succeeded; outbox empty
//  retryDelivery     this lease                                            due again later (backoff)
//  abandonDelivery   this lease                                            outbox empty (running + result → failed)
//  resultUnusable    this lease, running + result                          failed, its failure message due
//  tokenDead         any                                                   token_expires_at = now
//  movePositions     queued                                                queue_position (shown on the reply)
//
// The outbox is the `delivery_*` columns: a final message (result, failure, cancellation) is pending while
// `delivery_due` is set. Leases are taken only on rows this instance claimed (or nobody's), so a job's progress
// edits and its final message come from one process, in order.
import { and, asc, eq, getTableColumns, gt, inArray, isNotNull, isNull, lt, lte, ne, notInArray, or, sql, type SQL } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { rowsOf, taskCodec } from '../db/rows.ts';
import { ACTIVE_STATUSES, AT_RELAY_STATUSES, FINAL_STATUSES, tasks, type SpeedMode, type Task, type TaskStatus } from '../db/schema.ts';

/** Advisory lock taken by every placement transaction ("mj-claim"). */
const CLAIM_LOCK_KEY = 0x6d6a_636c_6169n;
/** How many of the oldest queued tasks one placement looks at (others wait for the next pass). */
const CLAIM_SCAN = 200;
/** At most this many stuck jobs per kind per sweep: each costs a Discord message; the rest go next sweep. */
const SWEEP_LIMIT = 500;

/** A queued task as placement sees it. */
export interface QueuedTask {
  id: string;
  userId: string;
  action: string;
  mode: SpeedMode | null;
  hasImages: boolean;
  /** Whether a prompt goes upstream (an /animate without one cannot run where the relay requires one). */
  hasPrompt: boolean;
  /** The account it must run on (an action: its parent's), or null when any may take it. */
  account: string | null;
}

export interface InFlight {
  account: string | null;
  userId: string;
  n: number;
}

export interface Placement {
  id: string;
  account: string;
}

/** What a claim hands the dispatcher: the row, whose `claim` number fences everything it records. */
export type ClaimedTask = Task & { status: 'claimed' };

export interface StoredResult {
  imageUrls: string[];
  actions: string[];
  descriptions?: string[];
  upstreamData?: Record<string, unknown>;
}

export interface StuckCutoffs {
  /** At the relay, no result, and the relay's last sign of life is older than this. */
  stalledBefore?: Date;
  /** Running at the relay since before this, however lively (the absolute cap). */
  runningBefore?: Date;
  /** Queued since before this. */
  queuedBefore?: Date;
}

/** Locale keys of the sweep's user-facing reasons (namespace admin). */
export const STALLED_REASON = 'admin:errors.jobStalled';
export const QUEUE_TIMEOUT_REASON = 'admin:errors.queueTimeout';
export const TOO_LONG_REASON = 'admin:errors.jobTooLong';
/** The relay no longer knows the job. */
export const LOST_REASON = 'errors.upstreamLost';
/** The result could not be fetched or shown. */
export const DELIVERY_FAILED_REASON = 'errors.deliveryFailed';

const ms = (n: number) => sql`${`${Math.max(0, Math.round(n))} milliseconds`}::interval`;
/** One job's progress as a poll reports it. */
export interface ProgressUpdate {
  id: string;
  upstreamId: string;
  status: 'submitted' | 'running';
  progress: number;
}

const atRelay = inArray(tasks.status, [...AT_RELAY_STATUSES]);
const noResult = isNull(tasks.resultAt);
/** A final message becomes due now (the outbox picks it up). */
const DUE_NOW = { deliveryDue: sql`now()`, deliverySince: sql`now()`, deliveryAttempts: 0, deliveringUntil: null, deliveryLease: null, deliveryUnsure: false } as const;

export class Lifecycle {
  constructor(private readonly db: Db) {}

  /**
   * Places queued tasks on relay accounts, in one transaction: `decide` sees the oldest queued tasks (locked with
   * SKIP LOCKED) and what is in flight, and picks which start where; those become `claimed` by `owner` with a new
   * claim number. A transaction-scoped advisory lock makes placements of every instance take turns, so the
   * in-flight counts `decide` sees stay true until the claim commits: no account or user exceeds its limit.
   */
  async claim(
    owner: bigint,
    decide: (queued: QueuedTask[], inFlight: InFlight[]) => Placement[],
    opts: { scan?: number; hasRoom?: (inFlight: InFlight[]) => boolean } = {},
  ): Promise<ClaimedTask[]> {
    return this.db.transaction(async (tx) => {
      await tx.execute(sql`select pg_advisory_xact_lock(${String(CLAIM_LOCK_KEY)}::bigint)`);
      // A stored result is the relay's job done: only its delivery is left, which takes no relay slot.
      const inFlight = await tx
        .select({ account: tasks.account, userId: tasks.userId, n: sql<number>`count(*)::int` })
        .from(tasks)
        .where(and(inArray(tasks.status, [...ACTIVE_STATUSES]), noResult))
        .groupBy(tasks.account, tasks.userId);
      // Every account full (a burst): nothing could start, so the queue is not read (nor its rows locked).
      if (opts.hasRoom && !opts.hasRoom(inFlight)) return [];
      const queued = await tx
        .select({
          id: tasks.id,
          userId: tasks.userId,
          action: tasks.action,
          mode: tasks.mode,
          hasImages: sql<boolean>`coalesce(jsonb_array_length(${tasks.input}->'images'), 0) > 0`,
          hasPrompt: sql<boolean>`${tasks.promptUpstream} ~ '[^[:space:]]'`,
          // An action acts on its parent's upstream job: it must run on the parent's account.
          // (Qualified by hand: inside a select list drizzle leaves column names bare, which the subquery would capture.)
          account: sql<string | null>`coalesce("tasks"."account", (select p.account from tasks p where p.id = "tasks"."parent_id"))`,
        })
        .from(tasks)
        .where(eq(tasks.status, 'queued'))
        .orderBy(asc(tasks.createdAt), asc(tasks.id))
        .limit(opts.scan ?? CLAIM_SCAN)
        .for('update', { skipLocked: true });
      if (queued.length === 0) return [];
      const placements = decide(queued, inFlight);
      const claimed: Task[] = [];
      const byAccount = new Map<string, string[]>();
      for (const p of placements) byAccount.set(p.account, [...(byAccount.get(p.account) ?? []), p.id]);
      for (const [account, ids] of byAccount) {
        claimed.push(
          ...(await tx
            .update(tasks)
            .set({ status: 'claimed', account, claimedBy: owner, claim: sql`${tasks.claim} + 1`, startedAt: sql`now()`, queuePosition: null })
            .where(and(inArray(tasks.id, ids), eq(tasks.status, 'queued')))
            .returning()),
        );
      }
      // Arrival order, whatever account each went to.
      const order = new Map(placements.map((p, i) => [p.id, i]));
      return claimed.sort((a, b) => order.get(a.id)! - order.get(b.id)!) as ClaimedTask[];
    });
  }

  /**
   * The relay took the job of this claim: its id, and its data merged into what is there. False when the claim
   * no longer holds (requeued, failed, cancelled, taken over): the caller then owns an orphan upstream job.
   * A push that beat this write may already have recorded the same upstream id: that counts as this claim's.
   */
  async submitted(task: Pick<Task, 'id' | 'claim'>, upstreamId: string, data: Record<string, unknown> | undefined): Promise<boolean> {
    const rows = await this.db
      .update(tasks)
      .set({
        status: sql`case when ${tasks.status} = 'claimed' then 'submitted' else ${tasks.status} end`,
        upstreamId,
        upstreamData: sql`coalesce(${tasks.upstreamData}, '{}'::jsonb) || ${JSON.stringify(data ?? {})}::jsonb`,
        lastSeenAt: sql`now()`,
        missedPolls: 0,
      })
      .where(
        and(
          eq(tasks.id, task.id),
          eq(tasks.claim, task.claim),
          or(eq(tasks.status, 'claimed'), and(inArray(tasks.status, [...AT_RELAY_STATUSES, ...FINAL_STATUSES]), eq(tasks.upstreamId, upstreamId))),
        ),
      )
      .returning({ id: tasks.id });
    return rows.length > 0;
  }

  /** A relay called back before the dispatcher recorded its job (the URL's secret proved whose job it is). */
  async pushedEarly(id: string, upstreamId: string): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'submitted', upstreamId, lastSeenAt: sql`now()`, missedPolls: 0 })
      .where(and(eq(tasks.id, id), eq(tasks.status, 'claimed'), isNull(tasks.upstreamId)))
      .returning();
    return row;
  }

  /** Back to the queue (its account failed before the relay took it), unpinned if another account may run it. */
  async requeue(task: Pick<Task, 'id' | 'claim'>, keepAccount: boolean): Promise<boolean> {
    const rows = await this.db
      .update(tasks)
      .set({ ...BACK_TO_QUEUE, ...(keepAccount ? {} : { account: null }) })
      .where(and(eq(tasks.id, task.id), eq(tasks.claim, task.claim), eq(tasks.status, 'claimed')))
      .returning({ id: tasks.id });
    return rows.length > 0;
  }

  /**
   * The relay reports the job moving: progress never goes backwards, and the first "running" starts the
   * JOB_MAX_MINUTES clock. Returns the row when something changed.
   */
  async progress(id: string, upstreamId: string, status: 'submitted' | 'running', progress: number): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({
        status: sql`case when ${status} = 'running' then 'running' else ${tasks.status} end`,
        progress: sql`greatest(${tasks.progress}, ${progress}::int)`,
        runningSince: sql`case when ${status} = 'running' then coalesce(${tasks.runningSince}, now()) else ${tasks.runningSince} end`,
        lastProgressAt: sql`now()`,
        lastSeenAt: sql`now()`,
        missedPolls: 0,
      })
      .where(
        and(
          eq(tasks.id, id),
          eq(tasks.upstreamId, upstreamId),
          atRelay,
          noResult,
          or(lt(tasks.progress, progress), and(eq(tasks.status, 'submitted'), sql`${status} = 'running'`)),
        ),
      )
      .returning();
    return row;
  }

  /**
   * `progress` for every job of one poll in one statement: a poll answers for up to an account's whole
   * concurrency, and a round trip per job was most of the bot's database CPU with thousands in flight.
   * Same guard as `progress`; returns the rows that moved.
   */
  async progressMany(updates: readonly ProgressUpdate[]): Promise<Task[]> {
    if (updates.length === 0) return [];
    // One parameter (JSON), however many jobs: drizzle would spread an array into a parameter per element.
    const rows = updates.map((u) => ({ v_id: u.id, v_upstream: u.upstreamId, v_running: u.status === 'running', v_progress: u.progress }));
    const v = sql`json_to_recordset(${JSON.stringify(rows)}::json) as v(v_id uuid, v_upstream text, v_running boolean, v_progress int)`;
    return this.db
      .update(tasks)
      .set({
        status: sql`case when v.v_running then 'running' else ${tasks.status} end`,
        progress: sql`greatest(${tasks.progress}, v.v_progress)`,
        runningSince: sql`case when v.v_running then coalesce(${tasks.runningSince}, now()) else ${tasks.runningSince} end`,
        lastProgressAt: sql`now()`,
        lastSeenAt: sql`now()`,
        missedPolls: 0,
      })
      .from(v)
      .where(
        and(
          sql`${tasks.id} = v.v_id`,
          sql`${tasks.upstreamId} = v.v_upstream`,
          atRelay,
          noResult,
          sql`(${tasks.progress} < v.v_progress or (${tasks.status} = 'submitted' and v.v_running))`,
        ),
      )
      .returning(getTableColumns(tasks));
  }

  /**
   * The relay still knows these jobs (whatever it says of them, 0 % and "queued" included): a sign of life.
   * Written only when the last one is older than `refreshMs`, so thousands of waiting jobs cost few writes.
   */
  async seen(ids: string[], refreshMs: number): Promise<void> {
    if (ids.length === 0) return;
    await this.db
      .update(tasks)
      .set({ lastSeenAt: sql`now()`, missedPolls: 0 })
      .where(and(inArray(tasks.id, ids), atRelay, or(gt(tasks.missedPolls, 0), isNull(tasks.lastSeenAt), lt(tasks.lastSeenAt, sql`now() - ${ms(refreshMs)}`))));
  }

  /** A poll's answer left these jobs out; returns the ids now missed `limit` times in a row (the relay lost them). */
  async missed(ids: string[], limit: number): Promise<string[]> {
    if (ids.length === 0) return [];
    const rows = await this.db
      .update(tasks)
      .set({ missedPolls: sql`${tasks.missedPolls} + 1` })
      .where(and(inArray(tasks.id, ids), atRelay, noResult))
      .returning({ id: tasks.id, missed: tasks.missedPolls });
    return rows.filter((r) => r.missed >= limit).map((r) => r.id);
  }

  /** The relay finished the job: the result is stored and its message is due. Once per job (first report wins). */
  async resultStored(id: string, upstreamId: string, result: StoredResult): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({
        status: 'running',
        progress: 100,
        imageUrls: result.imageUrls,
        actions: result.actions,
        ...(result.descriptions && { descriptions: result.descriptions }),
        upstreamData: sql`coalesce(${tasks.upstreamData}, '{}'::jsonb) || ${JSON.stringify(result.upstreamData ?? {})}::jsonb`,
        resultAt: sql`now()`,
        lastSeenAt: sql`now()`,
        runningSince: sql`coalesce(${tasks.runningSince}, now())`,
        ...DUE_NOW,
      })
      .where(and(eq(tasks.id, id), eq(tasks.upstreamId, upstreamId), atRelay, noResult))
      .returning();
    return row;
  }

  /**
   * Fails a job with this reason, unless it ended already or its result is stored (a finished image wins).
   * `claim` / `upstreamId` narrow it to the caller's own view of the job; `code` is the relay's reason code
   * (then `reason` is the relay's own words). Returns the row when this call ended it.
   */
  async fail(id: string, reason: string, guard: { claim?: number; upstreamId?: string } = {}, code?: string): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'failed', failReason: reason, failCode: code ?? null, finishedAt: sql`now()`, queuePosition: null, ...DUE_NOW })
      .where(
        and(
          eq(tasks.id, id),
          notInArray(tasks.status, [...FINAL_STATUSES]),
          noResult,
          guard.claim === undefined ? undefined : eq(tasks.claim, guard.claim),
          guard.upstreamId === undefined ? undefined : eq(tasks.upstreamId, guard.upstreamId),
        ),
      )
      .returning();
    return row;
  }

  /**
   * ❌: ends the job as cancelled if it is still in one of `from` and has no result. The click's token edits the
   * same message (the one ❌ was on) for 15 minutes: it replaces the job's own, older token for the last word.
   */
  async cancel(id: string, from: readonly TaskStatus[], click: { by: string; token: string; tokenExpiresAt: Date }): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({
        status: 'cancelled',
        cancelledBy: click.by,
        interactionToken: click.token,
        tokenExpiresAt: click.tokenExpiresAt,
        finishedAt: sql`now()`,
        queuePosition: null,
        ...DUE_NOW,
      })
      .where(and(eq(tasks.id, id), inArray(tasks.status, [...from]), noResult))
      .returning();
    return row;
  }

  /** Fails the stuck jobs (see StuckCutoffs) and returns them; their messages go through the outbox. */
  async failStuck(cutoffs: StuckCutoffs): Promise<Task[]> {
    const out: Task[] = [];
    const at = (d: Date) => sql`${d.toISOString()}::timestamptz`;
    if (cutoffs.stalledBefore) {
      const stalled = and(atRelay, noResult, sql`coalesce(${tasks.lastSeenAt}, ${tasks.startedAt}, ${tasks.createdAt}) < ${at(cutoffs.stalledBefore)}`);
      out.push(...(await this.failWhere(stalled!, STALLED_REASON)));
    }
    if (cutoffs.runningBefore) {
      out.push(...(await this.failWhere(and(atRelay, noResult, sql`${tasks.runningSince} < ${at(cutoffs.runningBefore)}`)!, TOO_LONG_REASON)));
    }
    if (cutoffs.queuedBefore) {
      out.push(...(await this.failWhere(and(eq(tasks.status, 'queued'), lt(tasks.createdAt, cutoffs.queuedBefore))!, QUEUE_TIMEOUT_REASON)));
    }
    return out;
  }

  private failWhere(where: SQL, reason: string): Promise<Task[]> {
    const ids = this.db.select({ id: tasks.id }).from(tasks).where(where).limit(SWEEP_LIMIT).for('update', { skipLocked: true });
    return this.db
      .update(tasks)
      .set({ status: 'failed', failReason: reason, finishedAt: sql`now()`, queuePosition: null, ...DUE_NOW })
      .where(and(inArray(tasks.id, ids), notInArray(tasks.status, [...FINAL_STATUSES]), noResult))
      .returning();
  }

  /**
   * Takes over a dead instance's work: what it claimed but never recorded at a relay goes back to the queue (the
   * next claim asks the relay first, where it can, whether the job got there); what a relay holds, and final
   * messages it had pending, become `self`'s. The WHERE on the old owner makes two adopters harmless.
   */
  async adopt(dead: bigint | null, self: bigint): Promise<{ adopted: number; requeued: number }> {
    const owned = dead === null ? isNull(tasks.claimedBy) : eq(tasks.claimedBy, dead);
    const requeued = await this.db
      .update(tasks)
      .set(BACK_TO_QUEUE)
      .where(and(owned, eq(tasks.status, 'claimed')))
      .returning({ id: tasks.id });
    // A dead holder's delivery lease is void at once (its attempt can no longer record anything); the lease id
    // stays, so the next lease marks the message unsure and its attempt looks before sending.
    const adopted = await this.db
      .update(tasks)
      .set({ claimedBy: self, deliveringUntil: null })
      .where(and(owned, or(atRelay, isNotNull(tasks.deliveryDue))))
      .returning({ id: tasks.id });
    return { adopted: adopted.length, requeued: requeued.length };
  }

  /**
   * This instance's claims that its dispatcher is no longer submitting (recording the submission failed through
   * a long database outage): back to the queue, where the next claim looks the job up at its relay first.
   */
  async requeueLost(self: bigint, submitting: ReadonlySet<string>, claimedBefore: Date): Promise<number> {
    const rows = await this.db
      .update(tasks)
      .set(BACK_TO_QUEUE)
      .where(
        and(
          eq(tasks.claimedBy, self),
          eq(tasks.status, 'claimed'),
          lt(tasks.startedAt, claimedBefore),
          submitting.size > 0 ? notInArray(tasks.id, [...submitting]) : undefined,
        ),
      )
      .returning({ id: tasks.id });
    return rows.length;
  }

  /**
   * Takes the lease on up to `limit` due final messages of this instance (or of nobody), oldest due first.
   * A crashed holder's lease runs out after `leaseMs`; only the attempt holding `delivery_lease` records an outcome.
   */
  async leaseDeliveries(owner: bigint, limit: number, leaseMs: number, except: readonly string[] = [], fullAccounts: readonly string[] = []): Promise<Task[]> {
    if (limit <= 0) return [];
    const due = this.db
      .select({ id: tasks.id })
      .from(tasks)
      .where(
        and(
          lte(tasks.deliveryDue, sql`now()`),
          or(eq(tasks.claimedBy, owner), isNull(tasks.claimedBy)),
          or(isNull(tasks.deliveringUntil), lt(tasks.deliveringUntil, sql`now()`)),
          except.length > 0 ? notInArray(tasks.id, [...except]) : undefined,
          // Accounts whose deliveries already fill their share wait (a slow CDN slows only its own jobs).
          fullAccounts.length > 0 ? or(isNull(tasks.account), notInArray(tasks.account, [...fullAccounts])) : undefined,
        ),
      )
      .orderBy(asc(tasks.deliveryDue))
      .limit(limit)
      .for('update', { skipLocked: true });
    return this.db
      .update(tasks)
      // Every recorded outcome clears the lease: one still set ran out unrecorded, so its attempt may be on
      // Discord. That doubt stays with the message until it is delivered (see delivery_unsure).
      .set({ deliveringUntil: sql`now() + ${ms(leaseMs)}`, deliveryLease: sql`gen_random_uuid()::text`, deliveryUnsure: sql`${tasks.deliveryUnsure} or ${tasks.deliveryLease} is not null` })
      .where(inArray(tasks.id, due))
      .returning();
  }

  /** The final message is on Discord: the outbox is empty, and a delivered result is a succeeded job. */
  async delivered(task: Pick<Task, 'id' | 'deliveryLease'>, messageId: string): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({
        status: sql`case when ${tasks.status} = 'running' then 'succeeded' else ${tasks.status} end`,
        messageId,
        finishedAt: sql`coalesce(${tasks.finishedAt}, now())`,
        deliveryDue: null,
        deliveringUntil: null,
        deliveryLease: null,
        deliveryAttempts: sql`${tasks.deliveryAttempts} + 1`,
      })
      .where(and(eq(tasks.id, task.id), eq(tasks.deliveryLease, task.deliveryLease!)))
      .returning();
    return row;
  }

  /** This attempt failed: due again at `next`, lease released. */
  async retryDelivery(task: Pick<Task, 'id' | 'deliveryLease'>, next: Date): Promise<boolean> {
    const rows = await this.db
      .update(tasks)
      .set({ deliveryDue: next, deliveringUntil: null, deliveryLease: null, deliveryAttempts: sql`${tasks.deliveryAttempts} + 1` })
      .where(and(eq(tasks.id, task.id), eq(tasks.deliveryLease, task.deliveryLease!)))
      .returning({ id: tasks.id });
    return rows.length > 0;
  }

  /** Gives up on this final message (past the outbox's limit); a result never shown ends the job as failed. */
  async abandonDelivery(task: Pick<Task, 'id' | 'deliveryLease'>): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({
        status: sql`case when ${tasks.status} = 'running' then 'failed' else ${tasks.status} end`,
        failReason: sql`case when ${tasks.status} = 'running' then ${DELIVERY_FAILED_REASON} else ${tasks.failReason} end`,
        finishedAt: sql`coalesce(${tasks.finishedAt}, now())`,
        deliveryDue: null,
        deliveringUntil: null,
        deliveryLease: null,
      })
      .where(and(eq(tasks.id, task.id), eq(tasks.deliveryLease, task.deliveryLease!)))
      .returning();
    return row;
  }

  /** The stored result cannot be shown (its image is gone): the job fails, and that message is due instead. */
  async resultUnusable(task: Pick<Task, 'id' | 'deliveryLease'>, reason = DELIVERY_FAILED_REASON): Promise<Task | undefined> {
    const [row] = await this.db
      .update(tasks)
      .set({ status: 'failed', failReason: reason, finishedAt: sql`now()`, ...DUE_NOW })
      .where(and(eq(tasks.id, task.id), eq(tasks.deliveryLease, task.deliveryLease!), eq(tasks.status, 'running')))
      .returning();
    return row;
  }

  /** Discord says the interaction token is dead: stop editing through it (final messages go to the channel). */
  async tokenDead(id: string): Promise<void> {
    await this.db.update(tasks).set({ tokenExpiresAt: sql`now()` }).where(eq(tasks.id, id));
  }

  /**
   * Ranks every queued task (arrival order: created_at, then id) and stores the place of those whose place
   * changed and whose reply can still be edited, at most once per `nearIntervalMs` (the first `nearPositions`)
   * or `farIntervalMs`. Returns what it stored: the replies to edit now. Because the UPDATE decides, two
   * instances never both edit the same change.
   */
  async movePositions(opts: { nearPositions: number; nearIntervalMs: number; farIntervalMs: number }): Promise<Array<{ task: Task; position: number }>> {
    // One statement in a function that plans without nested loops (drizzle/0013_queue_positions_plan.sql): the
    // ranking, the new places and which replies to edit, decided by the UPDATE so two instances never both edit.
    const raw = await this.db.execute(
      sql`select * from mj_move_positions(${opts.nearPositions}::int, ${opts.nearIntervalMs}::int, ${opts.farIntervalMs}::int)`,
    );
    const rows = rowsOf<Record<string, unknown>>(raw).map((r) => taskCodec.read(r));
    return rows.map((task) => ({ task, position: task.queuePosition! })).sort((a, b) => a.position - b.position);
  }
}

/** What a claimed task that never reached its relay goes back to: queued, nobody's, not started. */
const BACK_TO_QUEUE = { status: 'queued', claimedBy: null, startedAt: null } as const;
