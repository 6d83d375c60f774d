// The task row carries everything needed to resume a job after a crash: who asked, what was sent upstream,
// where it stands there, and how to reach the user again.
import { sql } from 'drizzle-orm';
import { bigint, boolean, check, index, integer, jsonb, pgTable, text, timestamp, unique, uuid } from 'drizzle-orm/pg-core';

/** The lifecycle's states (src/tasks/lifecycle.ts has the transitions between them). */
export const TASK_STATUSES = ['queued', 'claimed', 'submitted', 'running', 'succeeded', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
/** Placed on a relay account and not finished: what counts against account and user concurrency. */
export const ACTIVE_STATUSES = ['claimed', 'submitted', 'running'] as const satisfies readonly TaskStatus[];
/** The relay holds the job (it has an upstream id): what tracking follows. */
export const AT_RELAY_STATUSES = ['submitted', 'running'] as const satisfies readonly TaskStatus[];
export const FINAL_STATUSES = ['succeeded', 'failed', 'cancelled'] as const satisfies readonly TaskStatus[];

/** Midjourney's speed modes; a user's default (/settings) goes to relays whose account serves it. */
export const SPEED_MODES = ['fast', 'relax', 'turbo'] as const;
export type SpeedMode = (typeof SPEED_MODES)[number];

/** What a job starts from besides its prompt. */
export interface TaskInput {
  images: Array<{ url: string; contentType: string }>;
  /** /blend: portrait, square or landscape. */
  dimensions?: 'portrait' | 'square' | 'landscape';
  /** /draw's reference images (style, omni, character): added to the prompt as `--sref <url>`… at submit. */
  refs?: Array<{ kind: 'sref' | 'oref' | 'cref'; url: string; contentType: string }>;
  /** /animate (its start image is `images[0]`, its end frame `images[1]`): the motion, and whether the clip loops. */
  video?: { motion: 'low' | 'high'; loop?: boolean };
  /** Vary (Region): the mask drawn in the editor page, a base64 PNG of the parent image's size (white = repaint). */
  mask?: string;
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
    /** How many times the job was claimed: a submission records its job only while its claim number still holds. */
    claim: integer('claim').notNull().default(0),
    /** Place in the queue last shown to the user, and when (position edits are throttled like progress). */
    queuePosition: integer('queue_position'),
    positionShownAt: ts('position_shown_at'),
    /** An instance delivering the final message holds this lease, so two instances never both deliver. */
    deliveringUntil: ts('delivering_until'),
    /** Which attempt holds the lease: only that attempt may record the outcome. */
    deliveryLease: text('delivery_lease'),
    /** An attempt at the final message ended unrecorded (its process died): later attempts look before sending. */
    deliveryUnsure: boolean('delivery_unsure').notNull().default(false),
    /** The outbox: a final message (result, failure, cancellation) is pending and due at this time; null: none. */
    deliveryDue: ts('delivery_due'),
    /** When the pending final message first became due (the give-up limit counts from here). */
    deliverySince: ts('delivery_since'),
    upstreamId: text('upstream_id'),
    /** Adapter-private data the adapter needs later (e.g. an image id or the upstream's button ids). */
    upstreamData: jsonb('upstream_data').$type<Record<string, unknown>>(),
    status: text('status').$type<TaskStatus>().notNull().default('queued'),
    progress: integer('progress').notNull().default(0),
    imageUrls: jsonb('image_urls').$type<string[]>(),
    actions: jsonb('actions').$type<string[]>(),
    failReason: text('fail_reason'),
    /** Why the relay failed it, as a code (src/upstream/fail-codes.ts); fail_reason then holds the relay's own words. */
    failCode: text('fail_code'),
    /** Unguessable per-task secret carried in the relay callback URL (webhooks are accepted only with it). */
    callbackToken: text('callback_token'),
    interactionToken: text('interaction_token'),
    tokenExpiresAt: ts('token_expires_at'),
    messageId: text('message_id'),
    /**
     * Discord's upload limit per file for this job's interaction (its `attachment_size_limit`: 10 MiB, more in
     * boosted servers), stored only when believable (toldUploadLimit); null: 10 MiB assumed. A 413 still lowers it
     * for the attempt.
     */
    uploadLimit: integer('upload_limit'),
    deliveryAttempts: integer('delivery_attempts').notNull().default(0),
    createdAt: ts('created_at').notNull().default(sql`now()`),
    startedAt: ts('started_at'),
    lastProgressAt: ts('last_progress_at'),
    /** Last time the relay showed it still knows the job (any status, 0 % included): the stall timeout's clock. */
    lastSeenAt: ts('last_seen_at'),
    /** Consecutive polls whose answer left the job out: the relay has lost it after a few. */
    missedPolls: integer('missed_polls').notNull().default(0),
    /** When the relay started running the job (left its queue): JOB_MAX_MINUTES counts from here. */
    runningSince: ts('running_since'),
    /** When the result was stored (the relay is done with the job; only its delivery is left). */
    resultAt: ts('result_at'),
    /** Who cancelled the job (shown on its message when it was not its owner). */
    cancelledBy: text('cancelled_by'),
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
    // The outbox: pending final messages, by when they are due.
    index('tasks_delivery_due_idx').on(t.deliveryDue).where(sql`delivery_due is not null`),
    check('tasks_status_check', sql`${t.status} in ('queued', 'claimed', 'submitted', 'running', 'succeeded', 'failed', 'cancelled')`),
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
  // NULLS NOT DISTINCT: one bot-wide ban per user too (PostgreSQL 15+).
  (t) => [unique('user_bans_guild_user_key').on(t.guildId, t.userId).nullsNotDistinct()],
);

/** Per-server settings changed with /draw-admin. */
export const guildSettings = pgTable('guild_settings', {
  guildId: text('guild_id').primaryKey(),
  /** Jobs per UTC day for the whole server; null = unlimited. */
  dailyQuota: integer('daily_quota'),
  /** Jobs per UTC day for each member; null = the USER_DAILY_QUOTA default, 0 = unlimited. */
  userDailyQuota: integer('user_daily_quota'),
  /** Video (Animate, Extend) turned off in this server by /draw-admin video. */
  videoDisabled: boolean('video_disabled').notNull().default(false),
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
  /** Model version added to prompts that name none: `8.1`, `7` (as `--v`) or `niji 7` (as `--niji 7`); null = the relay's. */
  version: text('version'),
  /** Remix: V1–V4, 🔄, Vary and pans ask for the prompt again (where the relay takes one). */
  remix: boolean('remix').notNull().default(false),
  updatedAt: ts('updated_at').notNull().default(sql`now()`),
});
export type UserSettings = typeof userSettings.$inferSelect;

/**
 * Links to the Vary (Region) editor page: one per click of 🖌️, bound to the job and the user who clicked, used
 * once, valid 15 minutes. Only a hash of the token is stored, so the table gives no working link away.
 */
export const editorSessions = pgTable('editor_sessions', {
  tokenHash: text('token_hash').primaryKey(),
  taskId: uuid('task_id').notNull(),
  userId: text('user_id').notNull(),
  guildId: text('guild_id'),
  channelId: text('channel_id').notNull(),
  locale: text('locale').notNull(),
  expiresAt: ts('expires_at').notNull(),
  usedAt: ts('used_at'),
  createdAt: ts('created_at').notNull().default(sql`now()`),
});
export type EditorSession = typeof editorSessions.$inferSelect;
