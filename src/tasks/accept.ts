// Accepting jobs in batches. Every job is stored by the transaction that checks its limits (exact: no quota is
// ever exceeded, even by several instances on one database), but the jobs that arrive within a few
// milliseconds share that transaction: one lock statement, one count statement, one insert of all their rows.
// At 200 /draw per second that is a handful of statements per batch instead of about six per job.
//
// The limits a job is held to are the caller's (the preconditions a command declares, see
// src/discord/preconditions.ts); this module only counts and compares, so tasks/ never reads admin/.
//
// It also remembers what each batch counted (UsageMemory): the early check (before the interaction is
// answered) consults that memory instead of the database, and asks the database only when memory says a
// limit is reached (memory may be stale: jobs start and fail without this module seeing it).
import { inArray, sql } from 'drizzle-orm';
import type { PgInsertValue } from 'drizzle-orm/pg-core';
import type { Db } from '../db/client.ts';
import { isConnectionError, retryDatabase } from '../db/retry.ts';
import { tasks, type Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { VIDEO_JOB_ACTIONS, isVideoJob } from '../upstream/actions.ts';

/** A task row to insert (a column may be SQL, e.g. `clock_timestamp()`), with the fields the limits read. */
export type NewTaskRow = PgInsertValue<typeof tasks> & { id: string; guildId: string | null; userId: string };

/** A reason shown to the user: a locale key and its variables. */
export interface Refusal {
  key: string;
  vars?: Record<string, unknown>;
}

/** A job refused by the exact check, after the interaction was deferred. */
export class JobRefused extends Error {
  constructor(readonly refusal: Refusal) {
    super(`job refused: ${refusal.key}`);
  }
}

/** The limits one job is held to; null: that limit does not apply to this job. */
export interface JobLimits {
  /** Jobs the user may start per UTC day in this server. */
  userDaily: number | null;
  /** Jobs the whole server may start per UTC day. */
  guildDaily: number | null;
  /** Jobs the user may have waiting in the queue (over every server). */
  maxQueued: number | null;
}

export const NO_LIMITS: JobLimits = { userDaily: null, guildDaily: null, maxQueued: null };

/** Which limits a job is under: the daily quotas (new jobs), the queue limit (jobs that wait). */
export interface LimitsApplied {
  daily: boolean;
  queue: boolean;
}

/** The limits in force right now for a job in this server (the caller's policy: defaults and each server's own). */
export type LimitsOf = (guildId: string | null, applied: LimitsApplied) => JobLimits;

export interface Who {
  guildId: string | null;
  userId: string;
}

/** What counts toward the limits, for one user in one server. */
export interface Counts {
  /** The user's jobs today in this server (failed and cancelled ones do not count). */
  userToday: number;
  /** The server's jobs today; undefined when not counted (no server limit applied). */
  guildToday?: number;
  /** The user's jobs waiting in the queue, over every server. */
  waiting: number;
}

/** The start of the next UTC day: when daily quotas reset. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

/** Why a job with these limits may not start given these counts, or undefined: the one rule, early and exact. */
export function limitRefusal(counts: Counts, limits: JobLimits, now: Date): Refusal | undefined {
  const reset = unix(nextUtcMidnight(now));
  if (limits.userDaily !== null && counts.userToday >= limits.userDaily) {
    return { key: 'queue:errors.userQuota', vars: { limit: limits.userDaily, used: counts.userToday, reset } };
  }
  if (limits.guildDaily !== null && (counts.guildToday ?? 0) >= limits.guildDaily) {
    return { key: 'admin:errors.quotaReached', vars: { limit: limits.guildDaily, used: counts.guildToday ?? 0, reset } };
  }
  if (limits.maxQueued !== null && counts.waiting >= limits.maxQueued) {
    return { key: 'queue:errors.queueFull', vars: { limit: limits.maxQueued, waiting: counts.waiting } };
  }
  return undefined;
}

// Advisory lock namespaces (the two-key form: a separate key space from the single bigint locks elsewhere).
// The same keys as before batching, so instances of either version exclude each other during a rolling upgrade.
const USER_LOCK = 0x6d6a_0001;
const GUILD_LOCK = 0x6d6a_0002;

const dayStart = (now: Date) => new Date(nextUtcMidnight(now).getTime() - 86_400_000);
const pairKey = (guildId: string | null, userId: string) => `${guildId ?? ''}\u0000${userId}`;

/** Rows of `db.execute` (postgres.js answers with an array of rows). */
function rowsOf<T>(result: unknown): T[] {
  return result as T[];
}

interface CountRow {
  kind: 'u' | 'q' | 'g';
  guild_id: string | null;
  user_id: string | null;
  n: number;
}

/**
 * Counts, in one statement, what the limits need for these users and servers: each (server, user)'s jobs
 * today, each user's waiting jobs, and each listed server's jobs today.
 */
/** What one job counts toward the daily quotas: a video job `videoWeight` jobs (its GPU time), any other one. */
export const jobWeight = (action: unknown, videoWeight: number) => (typeof action === 'string' && isVideoJob(action) ? videoWeight : 1);

/** The sum of the weights of the rows `t` of a query: a video job counts `videoWeight`, any other job 1. */
const weightedCount = (videoWeight: number) =>
  sql`coalesce(sum(case when t.action in (select json_array_elements_text(${JSON.stringify(VIDEO_JOB_ACTIONS)}::json)) then ${videoWeight}::int else 1 end), 0)`;

export async function countUsage(db: Db, pairs: readonly Who[], guilds: readonly string[], now: Date, videoWeight = 1): Promise<{
  userToday: Map<string, number>;
  waiting: Map<string, number>;
  guildToday: Map<string, number>;
}> {
  const out = { userToday: new Map<string, number>(), waiting: new Map<string, number>(), guildToday: new Map<string, number>() };
  if (pairs.length === 0 && guilds.length === 0) return out;
  const since = dayStart(now).toISOString();
  const users = [...new Set(pairs.map((p) => p.userId))];
  // Each job counts its weight: video jobs count `videoWeight` (the queue limit still counts jobs).
  const weight = weightedCount(videoWeight);
  // The lists travel as JSON: one statement text whatever their length, so the server plans it once per connection.
  const rows = rowsOf<CountRow>(
    await db.execute(sql`
      select 'u' as kind, w.g as guild_id, w.u as user_id,
        (select ${weight} from tasks t where t.user_id = w.u and t.guild_id is not distinct from w.g
          and t.created_at >= ${since}::timestamptz and t.status not in ('failed', 'cancelled'))::int as n
      from json_to_recordset(${JSON.stringify(pairs.map((p) => ({ g: p.guildId, u: p.userId })))}::json) as w(g text, u text)
      union all
      select 'q', null, q.u, (select count(*) from tasks t where t.user_id = q.u and t.status = 'queued')::int
      from json_array_elements_text(${JSON.stringify(users)}::json) as q(u)
      union all
      select 'g', g.g, null, (select ${weight} from tasks t where t.guild_id = g.g
          and t.created_at >= ${since}::timestamptz and t.status not in ('failed', 'cancelled'))::int
      from json_array_elements_text(${JSON.stringify(guilds)}::json) as g(g)`),
  );
  for (const r of rows) {
    const n = Number(r.n);
    if (r.kind === 'u') out.userToday.set(pairKey(r.guild_id, r.user_id!), n);
    else if (r.kind === 'q') out.waiting.set(r.user_id!, n);
    else out.guildToday.set(r.guild_id!, n);
  }
  return out;
}

/**
 * What the batches last counted, kept so the early check can answer from memory. Counts only ever go stale
 * in one direction that matters: jobs that start, fail or are cancelled lower the true counts without this
 * module seeing it, so memory may say "limit reached" when it no longer is — the early check then asks the
 * database before refusing (see `suspect`). Jobs accepted by another instance raise the true counts unseen;
 * those are caught by the exact check (a guild's interactions all reach the instance running its shard, so
 * only the per-user queue limit can be shared between instances at all).
 */
export class UsageMemory {
  private day = 0;
  private readonly userToday = new Map<string, number>();
  private readonly guildToday = new Map<string, number>();
  private readonly waiting = new Map<string, number>();

  /**
   * Today's counts of every user and server, and every user's waiting jobs: memory starts complete. A video job
   * counts `videoWeight` (VIDEO_QUOTA_WEIGHT), as in countUsage.
   */
  async preload(db: Db, videoWeight = 1, now = new Date()): Promise<void> {
    const since = dayStart(now).toISOString();
    const [today, queued] = await Promise.all([
      db.execute(sql`select t.guild_id, t.user_id, ${weightedCount(videoWeight)}::int as n from tasks t
        where t.created_at >= ${since}::timestamptz and t.status not in ('failed', 'cancelled') group by t.guild_id, t.user_id`),
      db.execute(sql`select user_id, count(*)::int as n from tasks where status = 'queued' group by user_id`),
    ]);
    this.roll(now);
    for (const r of rowsOf<{ guild_id: string | null; user_id: string; n: number }>(today)) {
      this.userToday.set(pairKey(r.guild_id, r.user_id), Number(r.n));
      if (r.guild_id !== null) this.guildToday.set(r.guild_id, (this.guildToday.get(r.guild_id) ?? 0) + Number(r.n));
    }
    for (const r of rowsOf<{ user_id: string; n: number }>(queued)) this.waiting.set(r.user_id, Number(r.n));
  }

  /** What memory holds for this user in this server (0 where it knows of no job; the server's count undefined when unknown). */
  get(who: Who, now = new Date()): Counts {
    this.roll(now);
    return {
      userToday: this.userToday.get(pairKey(who.guildId, who.userId)) ?? 0,
      guildToday: who.guildId === null ? 0 : this.guildToday.get(who.guildId),
      waiting: this.waiting.get(who.userId) ?? 0,
    };
  }

  /** Records counts just read from the database (the early check's confirmation, or a batch). */
  remember(who: Who, counts: Counts, now = new Date()): void {
    this.roll(now);
    this.userToday.set(pairKey(who.guildId, who.userId), counts.userToday);
    if (counts.guildToday !== undefined && who.guildId !== null) this.guildToday.set(who.guildId, counts.guildToday);
    this.waiting.set(who.userId, counts.waiting);
  }

  /** Jobs stored in a server whose count this batch did not read: added to what memory knows of it. */
  addToGuild(guildId: string, n: number): void {
    const known = this.guildToday.get(guildId);
    if (known !== undefined) this.guildToday.set(guildId, known + n);
  }

  /** A server's own count is no longer known to be right (its limits changed): forget it until counted again. */
  forgetGuild(guildId: string): void {
    this.guildToday.delete(guildId);
  }

  /** Whether this server's count is known (counted since its limits last changed). */
  knowsGuild(guildId: string): boolean {
    return this.guildToday.has(guildId);
  }

  /** Daily counts belong to one UTC day: a new day starts from nothing. */
  private roll(now: Date): void {
    const day = Math.floor(now.getTime() / 86_400_000);
    if (day === this.day) return;
    this.day = day;
    this.userToday.clear();
    this.guildToday.clear();
  }
}

/** One job waiting for its batch. */
interface Pending {
  row: NewTaskRow;
  applied: LimitsApplied;
  resolve(result: { ok: true; task: Task } | { ok: false; refusal: Refusal }): void;
  reject(err: unknown): void;
}

export interface AcceptorOptions {
  /** The numbers for a job's limits, read when its batch runs (a quota changed a moment ago applies). */
  limits: LimitsOf;
  /** How long the first job of a batch waits for others (ms). Later ones also join while a batch is running. */
  windowMs?: number;
  /** What a video job counts toward the daily quotas (VIDEO_QUOTA_WEIGHT; default 1). */
  videoWeight?: number;
  /** At most this many jobs per transaction. */
  maxBatch?: number;
  /** Called once after each batch that stored at least one job (wakes the dispatcher). */
  onStored?: () => void;
  /** Where a batch retried through a database restart is logged. */
  log?: Logger;
  /** The waits between tries when the database is unreachable (default: retryDatabase's, about two minutes). */
  retryDelaysMs?: readonly number[];
}

/**
 * Stores jobs within their limits, in batches. One batch runs at a time per process; jobs arriving meanwhile
 * form the next one. In each batch's transaction: the advisory locks of every user (and of every server whose
 * daily limit applies), taken in one statement in a fixed order (users, then servers, by key) so that no two
 * transactions — batched or not — can deadlock; then one count of everything the limits need; then the jobs
 * are judged in arrival order against those counts (each accepted job counts for the ones after it); then one
 * insert of the accepted rows.
 */
export class Acceptor {
  private queue: Pending[] = [];
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private readonly windowMs: number;
  private readonly maxBatch: number;

  constructor(
    private readonly db: Db,
    readonly memory: UsageMemory,
    private readonly opts: AcceptorOptions,
  ) {
    this.windowMs = opts.windowMs ?? 5;
    this.maxBatch = opts.maxBatch ?? 200;
  }

  /** Stores the row if its limits allow it; the outcome once its batch has committed. */
  accept(row: NewTaskRow, applied: LimitsApplied): Promise<{ ok: true; task: Task } | { ok: false; refusal: Refusal }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ row, applied, resolve, reject });
      if (!this.running && !this.timer) this.timer = setTimeout(() => void this.drain(), this.windowMs);
    });
  }

  /** Resolves once every job handed in so far has been stored or refused. */
  async idle(): Promise<void> {
    while (this.running || this.timer) await (this.running ?? new Promise((r) => setTimeout(r, this.windowMs)));
  }

  private drain(): Promise<void> {
    this.timer = undefined;
    this.running = (async () => {
      while (this.queue.length > 0) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.settle(batch);
      }
    })().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** Runs one batch; if its transaction fails, each job is tried on its own so one bad row cannot sink the others. */
  private async settle(batch: Pending[]): Promise<void> {
    try {
      await this.storeThroughRestarts(batch);
    } catch (err) {
      if (batch.length === 1) return batch[0]!.reject(err);
      for (const job of batch) {
        try {
          await this.storeThroughRestarts([job]);
        } catch (e) {
          job.reject(e);
        }
      }
    }
  }

  /** The users behind these jobs were told "thinking…": a database restart delays their jobs, it does not fail them. */
  private storeThroughRestarts(batch: Pending[]): Promise<void> {
    if (!this.opts.log) return this.store(batch);
    return retryDatabase(() => this.store(batch), {
      log: this.opts.log,
      context: { jobs: batch.length },
      passThrough: (err) => !isConnectionError(err),
      delaysMs: this.opts.retryDelaysMs,
    });
  }

  private async store(batch: Pending[]): Promise<void> {
    const now = new Date();
    const limits = batch.map((p) => this.opts.limits(p.row.guildId, p.applied));
    const pairs = uniqueBy(batch.map((p) => ({ guildId: p.row.guildId, userId: p.row.userId })), (w) => pairKey(w.guildId, w.userId));
    const guilds = [...new Set(batch.filter((p, i) => limits[i]!.guildDaily !== null && p.row.guildId !== null).map((p) => p.row.guildId!))];
    const outcome = await this.db.transaction(async (tx) => {
      const locks = [
        ...[...new Set(pairs.map((p) => p.userId))].map((v) => ({ ns: USER_LOCK, v })),
        ...guilds.map((v) => ({ ns: GUILD_LOCK, v })),
      ];
      // Ordered by namespace (users first) and key: every transaction locks in the same global order. The count
      // waits for the locks (a count sent alongside them could be planned before they are held).
      await tx.execute(sql`select count(pg_advisory_xact_lock(ns, k)) from
        (select distinct ns, hashtext(v) as k from json_to_recordset(${JSON.stringify(locks)}::json) as l(ns int, v text) order by ns, k) as ordered`);
      const videoWeight = this.opts.videoWeight ?? 1;
      const counted = await countUsage(tx, pairs, guilds, now, videoWeight);
      const decisions = batch.map((p, i) => {
        const pk = pairKey(p.row.guildId, p.row.userId);
        const counts: Counts = {
          userToday: counted.userToday.get(pk) ?? 0,
          guildToday: p.row.guildId === null ? undefined : counted.guildToday.get(p.row.guildId),
          waiting: counted.waiting.get(p.row.userId) ?? 0,
        };
        const refusal = limitRefusal(counts, limits[i]!, now);
        if (!refusal) {
          // This job counts for the ones after it in the batch.
          const w = jobWeight(p.row.action, videoWeight);
          counted.userToday.set(pk, counts.userToday + w);
          if (p.row.guildId !== null && counts.guildToday !== undefined) counted.guildToday.set(p.row.guildId, counts.guildToday + w);
          counted.waiting.set(p.row.userId, counts.waiting + 1);
        }
        return refusal;
      });
      const rows = batch.filter((_, i) => !decisions[i]).map((p) => p.row);
      // A try whose commit was lost with its connection may have stored some of these already: keep those rows.
      const inserted = rows.length > 0 ? await tx.insert(tasks).values(rows).onConflictDoNothing({ target: tasks.id }).returning() : [];
      const missing = rows.filter((r) => !inserted.some((t) => t.id === r.id)).map((r) => r.id);
      const stored = missing.length > 0 ? [...inserted, ...(await tx.select().from(tasks).where(inArray(tasks.id, missing)))] : inserted;
      return { decisions, stored, counted };
    });
    // Committed: remember the counts, then answer each job.
    for (const w of pairs) {
      const counts: Counts = {
        userToday: outcome.counted.userToday.get(pairKey(w.guildId, w.userId)) ?? 0,
        waiting: outcome.counted.waiting.get(w.userId) ?? 0,
      };
      if (w.guildId !== null && outcome.counted.guildToday.has(w.guildId)) counts.guildToday = outcome.counted.guildToday.get(w.guildId);
      this.memory.remember(w, counts, now);
    }
    for (const t of outcome.stored) if (t.guildId !== null && !outcome.counted.guildToday.has(t.guildId)) this.memory.addToGuild(t.guildId, jobWeight(t.action, this.opts.videoWeight ?? 1));
    const byId = new Map(outcome.stored.map((t) => [t.id, t]));
    batch.forEach((p, i) => {
      const refusal = outcome.decisions[i];
      if (refusal) p.resolve({ ok: false, refusal });
      else p.resolve({ ok: true, task: byId.get(p.row.id)! });
    });
    if (outcome.stored.length > 0) this.opts.onStored?.();
  }
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
