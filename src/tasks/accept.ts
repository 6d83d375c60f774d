// Accepting jobs in batches. Every job is stored by the statement or transaction that checks its limits (exact: no
// quota is ever exceeded, even by several instances on one database), and the jobs that arrive within a few
// milliseconds share it.
//
// Usually that is one statement per batch: the jobs are judged against the counts memory holds (UsageMemory,
// what the last batches counted), and the database function mj_accept takes the locks, recounts, and stores the
// batch only if no count is above what memory assumed (drizzle/0012_accept_in_one_statement.sql). When memory
// cannot decide (a job it would refuse, a server's count it does not know) or the counts moved (another
// instance's jobs), the batch takes the exact path: a transaction that locks, counts, judges and inserts.
//
// The limits a job is held to are the caller's (the preconditions a command declares, see
// src/discord/preconditions.ts); this module only counts and compares, so tasks/ never reads admin/.
//
// The early check (before the interaction is answered) consults the same memory, and asks the database only
// when memory says a limit is reached (memory may be stale: jobs start and fail without this module seeing it).
import { inArray, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { isConnectionError, retryDatabase } from '../db/retry.ts';
import { hasSqlState, rowsOf, taskCodec } from '../db/rows.ts';
import { tasks, type Task } from '../db/schema.ts';
import type { Logger } from '../log.ts';
import { VIDEO_JOB_ACTIONS, isVideoJob } from '../upstream/actions.ts';

/**
 * A task row to insert, with the fields the limits read. Its creation time is not in it: the row is stamped
 * when it is written (after the limit locks were waited for), so queue order is the order jobs were stored in.
 */
export type NewTaskRow = Omit<typeof tasks.$inferInsert, 'createdAt'> & { id: string; guildId: string | null; userId: string };

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

interface CountRow {
  kind: 'u' | 'q' | 'g';
  guild_id: string | null;
  user_id: string | null;
  n: number;
}

/** What one job counts toward the daily quotas: a video job `videoWeight` jobs (its GPU time), any other one. */
export const jobWeight = (action: unknown, videoWeight: number) => (typeof action === 'string' && isVideoJob(action) ? videoWeight : 1);

/** The JSON lists mj_usage reads: (server, user) pairs, users, servers. */
function usageArgs(pairs: readonly Who[], guilds: readonly string[]) {
  return {
    pairs: JSON.stringify(pairs.map((p) => ({ g: p.guildId, u: p.userId }))),
    users: JSON.stringify([...new Set(pairs.map((p) => p.userId))]),
    guilds: JSON.stringify(guilds),
  };
}

const VIDEO_JOBS_JSON = JSON.stringify(VIDEO_JOB_ACTIONS);

/** What the limits need, read by mj_usage: each (server, user)'s jobs today, each user's waiting jobs, each listed server's jobs today. */
export async function countUsage(db: Db, pairs: readonly Who[], guilds: readonly string[], now: Date, videoWeight = 1): Promise<Usage> {
  const out: Usage = { userToday: new Map(), waiting: new Map(), guildToday: new Map() };
  if (pairs.length === 0 && guilds.length === 0) return out;
  const a = usageArgs(pairs, guilds);
  const rows = rowsOf<CountRow>(
    await db.execute(sql`select * from mj_usage(${a.pairs}::json, ${a.users}::json, ${a.guilds}::json, ${dayStart(now).toISOString()}::timestamptz, ${VIDEO_JOBS_JSON}::json, ${videoWeight}::int)`),
  );
  for (const r of rows) {
    const n = Number(r.n);
    if (r.kind === 'u') out.userToday.set(pairKey(r.guild_id, r.user_id!), n);
    else if (r.kind === 'q') out.waiting.set(r.user_id!, n);
    else out.guildToday.set(r.guild_id!, n);
  }
  return out;
}

/** Counts by key: pairKey(server, user) → jobs today, user → waiting jobs, server → jobs today. */
export interface Usage {
  userToday: Map<string, number>;
  waiting: Map<string, number>;
  guildToday: Map<string, number>;
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
    // mj_usage over every (server, user) with a job today and every user with a waiting job: the counting rule
    // has one definition, in the database.
    const rows = rowsOf<CountRow>(
      await db.execute(sql`select * from mj_usage(
        (select coalesce(json_agg(json_build_object('g', d.guild_id, 'u', d.user_id)), '[]') from (select distinct guild_id, user_id from tasks where created_at >= ${since}::timestamptz) d),
        (select coalesce(json_agg(distinct user_id), '[]') from tasks where status = 'queued'),
        '[]', ${since}::timestamptz, ${VIDEO_JOBS_JSON}::json, ${videoWeight}::int)`),
    );
    this.roll(now);
    for (const r of rows) {
      const n = Number(r.n);
      if (r.kind === 'q') {
        this.waiting.set(r.user_id!, n);
        continue;
      }
      this.userToday.set(pairKey(r.guild_id, r.user_id!), n);
      if (r.guild_id !== null) this.guildToday.set(r.guild_id, (this.guildToday.get(r.guild_id) ?? 0) + n);
    }
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
  /**
   * How long the first job of a batch waits for others (ms; default 20). Later ones also join while a batch is
   * running. The user already has their "thinking…" (the deferral goes first), so the wait costs them nothing
   * they see, and at 200 jobs per second it makes a statement per four jobs instead of one per one or two.
   */
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
  /** Batches stored by one statement from memory's counts, and by the exact transaction. */
  readonly batches = { fromMemory: 0, exact: 0 };

  constructor(
    private readonly db: Db,
    readonly memory: UsageMemory,
    private readonly opts: AcceptorOptions,
  ) {
    this.windowMs = opts.windowMs ?? 20;
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
    const videoWeight = this.opts.videoWeight ?? 1;
    const limits = batch.map((p) => this.opts.limits(p.row.guildId, p.applied));
    const pairs = uniqueBy(batch.map((p) => ({ guildId: p.row.guildId, userId: p.row.userId })), (w) => pairKey(w.guildId, w.userId));
    const guilds = [...new Set(batch.filter((p, i) => limits[i]!.guildDaily !== null && p.row.guildId !== null).map((p) => p.row.guildId!))];
    const locks = JSON.stringify([
      ...[...new Set(pairs.map((p) => p.userId))].map((v) => ({ ns: USER_LOCK, v })),
      ...guilds.map((v) => ({ ns: GUILD_LOCK, v })),
    ]);
    const columns = insertColumns(batch);
    const rows = (decisions: (Refusal | undefined)[]) => JSON.stringify(batch.filter((_, i) => !decisions[i]).map((p) => columnRow(p.row, columns)));

    // From memory, in one statement, when memory accepts every job and knows every count it needs.
    const seeds = this.fromMemory(pairs, guilds, now);
    if (seeds) {
      const counted = copyUsage(seeds);
      const decisions = judge(batch, limits, counted, now, videoWeight);
      if (decisions.every((d) => !d)) {
        try {
          const raw = await this.db.execute(sql`select * from mj_accept(${locks}::json, ${expectedOf(seeds)}::json, ${dayStart(now).toISOString()}::timestamptz,
            ${VIDEO_JOBS_JSON}::json, ${videoWeight}::int, ${JSON.stringify(columns.names)}::json, ${rows(decisions)}::json)`);
          const stored = await this.withEarlierTries(this.db, batch, decisions, rowsOf<Record<string, unknown>>(raw).map((r) => taskCodec.read(r)));
          this.batches.fromMemory++;
          return this.settled(batch, { decisions, stored, counted }, pairs, now);
        } catch (err) {
          // Counts above what memory assumed (another instance's jobs): decide again from exact counts.
          if (!hasSqlState(err, COUNTS_MOVED)) throw err;
        }
      }
    }

    // Exact: in a transaction, take the same locks, count, judge in arrival order, insert the accepted rows.
    const outcome = await this.db.transaction(async (tx) => {
      // The count waits for the locks: it is a statement of its own, so its snapshot is taken once they are held.
      await tx.execute(sql`select mj_lock(${locks}::json)`);
      const counted = await countUsage(tx, pairs, guilds, now, videoWeight);
      const decisions = judge(batch, limits, counted, now, videoWeight);
      const accepted = decisions.some((d) => !d);
      const raw = accepted ? rowsOf<Record<string, unknown>>(await tx.execute(sql`select * from mj_insert_tasks(${JSON.stringify(columns.names)}::json, ${rows(decisions)}::json)`)) : [];
      const stored = await this.withEarlierTries(tx, batch, decisions, raw.map((r) => taskCodec.read(r)));
      return { decisions, stored, counted };
    });
    this.batches.exact++;
    this.settled(batch, outcome, pairs, now);
  }

  /**
   * The counts memory holds for a batch, or undefined when it lacks one that a limit needs (a server whose count
   * it forgot). Memory is complete from its preload on, so a pair it has never seen has no job today.
   */
  private fromMemory(pairs: readonly Who[], guilds: readonly string[], now: Date): Usage | undefined {
    const usage: Usage = { userToday: new Map(), waiting: new Map(), guildToday: new Map() };
    for (const w of pairs) {
      const c = this.memory.get(w, now);
      usage.userToday.set(pairKey(w.guildId, w.userId), c.userToday);
      usage.waiting.set(w.userId, c.waiting);
    }
    for (const g of guilds) {
      if (!this.memory.knowsGuild(g)) return undefined;
      usage.guildToday.set(g, this.memory.get({ guildId: g, userId: '' }, now).guildToday!);
    }
    return usage;
  }

  /** The accepted rows an insert did not return: stored already by a try whose commit was lost with its connection. */
  private async withEarlierTries(db: Db, batch: Pending[], decisions: (Refusal | undefined)[], inserted: Task[]): Promise<Task[]> {
    const got = new Set(inserted.map((t) => t.id));
    const missing = batch.filter((p, i) => !decisions[i] && !got.has(p.row.id)).map((p) => p.row.id);
    return missing.length > 0 ? [...inserted, ...(await db.select().from(tasks).where(inArray(tasks.id, missing)))] : inserted;
  }

  /** Stored: remember the counts, then answer each job. */
  private settled(batch: Pending[], outcome: { decisions: (Refusal | undefined)[]; stored: Task[]; counted: Usage }, pairs: readonly Who[], now: Date): void {
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

/** SQLSTATE raised by mj_accept when a count is above what the caller expected. */
const COUNTS_MOVED = 'MJ409';


/**
 * Judges the jobs in arrival order against `counted`, which each accepted job raises for the ones after it (its
 * weight toward the daily counts, one waiting job). The refusal of each job, or undefined where it is accepted.
 */
function judge(batch: readonly Pending[], limits: readonly JobLimits[], counted: Usage, now: Date, videoWeight: number): (Refusal | undefined)[] {
  return batch.map((p, i) => {
    const pk = pairKey(p.row.guildId, p.row.userId);
    const counts: Counts = {
      userToday: counted.userToday.get(pk) ?? 0,
      guildToday: p.row.guildId === null ? undefined : counted.guildToday.get(p.row.guildId),
      waiting: counted.waiting.get(p.row.userId) ?? 0,
    };
    const refusal = limitRefusal(counts, limits[i]!, now);
    if (!refusal) {
      const w = jobWeight(p.row.action, videoWeight);
      counted.userToday.set(pk, counts.userToday + w);
      if (p.row.guildId !== null && counts.guildToday !== undefined) counted.guildToday.set(p.row.guildId, counts.guildToday + w);
      counted.waiting.set(p.row.userId, counts.waiting + 1);
    }
    return refusal;
  });
}

const copyUsage = (u: Usage): Usage => ({ userToday: new Map(u.userToday), waiting: new Map(u.waiting), guildToday: new Map(u.guildToday) });

/** The counts a batch was judged from, as mj_accept compares them (its p_expected). */
function expectedOf(u: Usage): string {
  const unpair = (k: string) => k.split('\u0000') as [string, string];
  return JSON.stringify([
    ...[...u.userToday].map(([k, n]) => {
      const [g, user] = unpair(k);
      return { kind: 'u', guild_id: g === '' ? null : g, user_id: user, n };
    }),
    ...[...u.waiting].map(([user, n]) => ({ kind: 'q', guild_id: null, user_id: user, n })),
    ...[...u.guildToday].map(([g, n]) => ({ kind: 'g', guild_id: g, user_id: null, n })),
  ]);
}

/** The columns a batch inserts: every key any of its rows sets (a key a row lacks is inserted as null). */
function insertColumns(batch: readonly Pending[]): { keys: string[]; names: string[] } {
  const keys = [...new Set(batch.flatMap((p) => Object.keys(p.row)))];
  return { keys, names: keys.map((k) => taskCodec.column(k)) };
}

/** A row as mj_insert_tasks reads it: keyed by column name (dates become ISO strings in the JSON). */
function columnRow(row: NewTaskRow, columns: { keys: string[]; names: string[] }): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  columns.keys.forEach((k, i) => {
    out[columns.names[i]!] = (row as Record<string, unknown>)[k] ?? null;
  });
  return out;
}

function uniqueBy<T>(items: T[], key: (t: T) => string): T[] {
  const seen = new Map<string, T>();
  for (const item of items) if (!seen.has(key(item))) seen.set(key(item), item);
  return [...seen.values()];
}
