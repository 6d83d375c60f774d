// The task row carries everything needed to resume a job after a crash: who asked, what was sent upstream,
// where it stands there, and how to reach the user again.
import { sql } from 'drizzle-orm';
import { bigint, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

export const TASK_STATUSES = ['queued', 'submitted', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const ACTIVE_STATUSES = ['submitted', 'running'] as const satisfies readonly TaskStatus[];
export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];

/** Midjourney's speed modes; a user's default (/settings) goes to relays whose account serves it. */
export const SPEED_MODES = ['fast', 'relax', 'turbo'] as const;
export type SpeedMode = (typeof SPEED_MODES)[number];

/** What a job starts from besides its prompt. */
export interface TaskInput {
  images: Array<{ url: string; contentType: string }>;
  /** /blend: portrait, square or landscape. */
  dimensions?: 'portrait' | 'square' | 'landscape';
}

const ts = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

export const tasks = pgTable(
  'tasks',
  {
    id: uuid('id').primaryKey(),
    parentId: uuid('parent_id'),
    guildId: text('guild_id'),
    channelId: text('channel_id').notNull(),
    userId: text('user_id').notNull(),
    locale: text('locale').notNull().default('en-US'),
    /** `imagine`, `blend`, `describe`, or a provider-neutral action such as `upscale:2` or `zoom:2`. */
    action: text('action').notNull(),
    /** What the user typed. */
    prompt: text('prompt').notNull(),
    /** What went upstream (translated, normalised). */
    promptUpstream: text('prompt_upstream').notNull(),
    /** The images a job starts from (image prompts, /blend, /describe): Discord CDN URLs, fetched only at submit. */
    input: jsonb('input').$type<TaskInput>(),
    /** A finished /describe job: the suggested prompts. */
    descriptions: jsonb('descriptions').$type<string[]>(),
    provider: text('provider').notNull(),
    /** The relay account the job runs on. Set while still queued only for actions, which must go where their parent ran. */
    account: text('account'),
    /** Requested speed mode (null: the account's default). */
    mode: text('mode').$type<SpeedMode>(),
    /** The instance (its liveness lock key) that claimed the job: a dead claimer's unsubmitted jobs are requeued. */
    claimedBy: bigint('claimed_by', { mode: 'bigint' }),
    /** Place in the queue last shown to the user, and when (position edits are throttled like progress). */
    queuePosition: integer('queue_position'),
    positionShownAt: ts('position_shown_at'),
    /** An instance delivering the final message holds this lease, so two instances never both deliver. */
    deliveringUntil: ts('delivering_until'),
    upstreamId: text('upstream_id'),
    /** Adapter-private data the adapter needs later (e.g. an image id or the upstream's button ids). */
    upstreamData: jsonb('upstream_data').$type<Record<string, unknown>>(),
    status: text('status').$type<TaskStatus>().notNull().default('queued'),
    progress: integer('progress').notNull().default(0),
    imageUrls: jsonb('image_urls').$type<string[]>(),
    actions: jsonb('actions').$type<string[]>(),
    failReason: text('fail_reason'),
    /** Unguessable per-task secret carried in the relay callback URL (webhooks are accepted only with it). */
    callbackToken: text('callback_token'),
    interactionToken: text('interaction_token'),
    tokenExpiresAt: ts('token_expires_at'),
    messageId: text('message_id'),
    deliveryAttempts: integer('delivery_attempts').notNull().default(0),
    createdAt: ts('created_at').notNull().default(sql`now()`),
    startedAt: ts('started_at'),
    lastProgressAt: ts('last_progress_at'),
    finishedAt: ts('finished_at'),
  },
  (t) => [
    index('tasks_status_created_idx').on(t.status, t.createdAt),
    index('tasks_created_idx').on(t.createdAt),
    index('tasks_parent_idx').on(t.parentId),
    // A guild's jobs of the day, for its daily quota.
    index('tasks_guild_created_idx').on(t.guildId, t.createdAt),
    // A user's jobs of the day and in the queue, for the per-user quota and limits.
    index('tasks_user_created_idx').on(t.userId, t.createdAt),
  ],
);

export type Task = typeof tasks.$inferSelect;
export type NewTask = typeof tasks.$inferInsert;

/** Users refused /draw and buttons: in one server (guild_id set) or on every server (guild_id null, owners only). */
export const userBans = pgTable(
  'user_bans',
  {
    id: integer('id').primaryKey().generatedAlwaysAsIdentity(),
    guildId: text('guild_id'),
    userId: text('user_id').notNull(),
    bannedBy: text('banned_by').notNull(),
    reason: text('reason'),
    createdAt: ts('created_at').notNull().default(sql`now()`),
  },
  // NULLS NOT DISTINCT: one bot-wide ban per user too (PostgreSQL 15+, PGlite).
  (t) => [unique('user_bans_guild_user_key').on(t.guildId, t.userId).nullsNotDistinct()],
);

/** Per-server settings changed with /draw-admin. */
export const guildSettings = pgTable('guild_settings', {
  guildId: text('guild_id').primaryKey(),
  /** Jobs per UTC day for the whole server; null = unlimited. */
  dailyQuota: integer('daily_quota'),
  /** Jobs per UTC day for each member; null = the USER_DAILY_QUOTA default, 0 = unlimited. */
  userDailyQuota: integer('user_daily_quota'),
  updatedBy: text('updated_by'),
  updatedAt: ts('updated_at').notNull().default(sql`now()`),
});

/** Per-user defaults set with /settings. */
export const userSettings = pgTable('user_settings', {
  userId: text('user_id').primaryKey(),
  /** Speed mode for new jobs; null = the relay's default. */
  mode: text('mode').$type<SpeedMode>(),
  /** Aspect ratio added to prompts that give none (`16:9`); null = Midjourney's 1:1. */
  aspectRatio: text('aspect_ratio'),
  updatedAt: ts('updated_at').notNull().default(sql`now()`),
});
export type UserSettings = typeof userSettings.$inferSelect;
