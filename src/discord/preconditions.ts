// One precondition pipeline for every entry point (slash commands, buttons, modals). Each declares its checks —
// a ban, the daily quotas, the queue limit, what the relay accounts can do, a permission — and `runPreconditions`
// runs them in order and answers the first refusal privately, in the user's language.
//
// The checks answer from memory, so an interaction is answered (deferred, or refused) before any database round
// trip its answer does not need: bans and servers' quotas are held by AdminRepo, the use of the limits by
// UsageMemory (src/tasks/accept.ts). Memory can only be wrong in one harmless direction for a refusal — it may
// still count a job that has since started, failed or been cancelled — so when it says a limit is reached, the
// count is read again from the database before refusing. The limits a job passed here are the limits it is held
// to, exactly, when it is stored (TaskService.accept, with the numbers in force then): a refusal there replaces the public reply by a private one.
import { MessageFlags, PermissionFlagsBits, type PermissionsBitField } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { translator } from '../i18n.ts';
import { NO_LIMITS, limitRefusal, type Counts, type JobLimits, type LimitsApplied, type Refusal } from '../tasks/accept.ts';

/** What the checks read of an interaction (any kind). */
export interface Subject {
  guildId: string | null;
  user: { id: string };
  locale: string;
  memberPermissions: Readonly<PermissionsBitField> | null;
  deferred: boolean;
  replied: boolean;
  reply(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
  followUp(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
}

/** One run of the pipeline: the context, the interaction, and what the checks share. */
export class Gate<S extends Subject = Subject> {
  private counted: Promise<Counts> | undefined;

  constructor(
    readonly ctx: AppContext,
    readonly subject: S,
    /** The limits the declared checks hold this job to. */
    readonly limits: JobLimits,
    readonly now = new Date(),
  ) {}

  get who() {
    return { guildId: this.subject.guildId, userId: this.subject.user.id };
  }

  /** The use of the limits, read from the database once per run (and remembered). */
  counts(): Promise<Counts> {
    this.counted ??= this.ctx.quotas.count(this.who, this.limits, this.now).then((counts) => {
      this.ctx.usage.remember(this.who, counts, this.now);
      return counts;
    });
    return this.counted;
  }
}

export interface Precondition<S extends Subject = Subject> {
  readonly name: string;
  /** The limit this check stands for, which the job is then held to when it is stored. */
  readonly holds?: 'daily' | 'queue';
  /** A refusal, or undefined to go on; synchronous whenever memory can answer. */
  run(gate: Gate<S>): Refusal | undefined | Promise<Refusal | undefined>;
}

/** The outcome: which limits the job is under when it is stored, or undefined once a refusal has been answered. */
export type Granted = { applied: LimitsApplied };

/** Runs the checks in order; answers the first refusal privately (a follow-up if already acknowledged). */
export async function runPreconditions<S extends Subject>(ctx: AppContext, subject: S, checks: readonly Precondition<S>[]): Promise<Granted | undefined> {
  const holds = new Set(checks.map((c) => c.holds));
  const applied = { daily: holds.has('daily'), queue: holds.has('queue') };
  const gate = new Gate(ctx, subject, ctx.quotas.jobLimits(subject.guildId, applied));
  for (const check of checks) {
    const outcome = check.run(gate);
    const refusal = outcome instanceof Promise ? await outcome : outcome;
    if (!refusal) continue;
    ctx.log.info({ userId: subject.user.id, guildId: subject.guildId, precondition: check.name, refusal: refusal.key }, 'refused by a precondition');
    await refuse(subject, refusal);
    return undefined;
  }
  return { applied };
}

/** A private, localized answer: the reply, or a follow-up once the interaction was acknowledged. */
export async function refuse(subject: Subject, refusal: Refusal): Promise<void> {
  const content = translator(subject.locale)(refusal.key, refusal.vars);
  if (subject.deferred || subject.replied) await subject.followUp({ content, flags: MessageFlags.Ephemeral });
  else await subject.reply({ content, flags: MessageFlags.Ephemeral });
}

/** The limit part of one check, judged from memory; from the database when memory says it is reached. */
async function fromDatabase(gate: Gate, part: JobLimits): Promise<Refusal | undefined> {
  return limitRefusal(await gate.counts(), part, gate.now);
}

const isModerator = (ctx: AppContext, s: Subject) =>
  s.memberPermissions?.has(PermissionFlagsBits.ManageGuild) === true || ctx.config.BOT_OWNER_IDS.includes(s.user.id);

/** The checks every entry point picks from. */
export const preconditions = {
  /** Not banned in this server, nor everywhere. */
  notBanned: {
    name: 'notBanned',
    run: (g) => (g.ctx.admin.isBanned(g.subject.guildId, g.subject.user.id) ? { key: 'admin:errors.banned' } : undefined),
  } satisfies Precondition,

  /** The user's and the server's daily quotas (new jobs only). */
  dailyQuota: {
    name: 'dailyQuota',
    holds: 'daily',
    run(g) {
      const part = { ...NO_LIMITS, userDaily: g.limits.userDaily, guildDaily: g.limits.guildDaily };
      const known = g.ctx.usage.get(g.who, g.now);
      // A server's count unknown to memory (its limit was just set, or it had no job since start-up): read it.
      const unknown = part.guildDaily !== null && known.guildToday === undefined;
      return unknown || limitRefusal(known, part, g.now) ? fromDatabase(g, part) : undefined;
    },
  } satisfies Precondition,

  /** The user's jobs waiting in the queue (every job). */
  queueLimit: {
    name: 'queueLimit',
    holds: 'queue',
    run(g) {
      const part = { ...NO_LIMITS, maxQueued: g.limits.maxQueued };
      return limitRefusal(g.ctx.usage.get(g.who, g.now), part, g.now) ? fromDatabase(g, part) : undefined;
    },
  } satisfies Precondition,

  /** Some relay account can do this (blend, describe, image prompts, /animate). */
  capability: (feature: 'blend' | 'describe' | 'imagePrompts' | 'shorten' | 'animateImages', refusal: (s: Subject) => Refusal): Precondition => ({
    name: `capability:${feature}`,
    run: (g) => (g.ctx.accounts.can(feature) ? undefined : refusal(g.subject)),
  }),

  /** Video is not turned off in this server (/draw-admin video). */
  videoOn: { name: 'videoOn', run: (g) => (g.ctx.admin.videoDisabled(g.subject.guildId) ? { key: 'video:errors.disabled' } : undefined) } satisfies Precondition,

  /** In a server, not a direct message. */
  guildOnly: { name: 'guildOnly', run: (g) => (g.subject.guildId ? undefined : { key: 'admin:errors.guildOnly' }) } satisfies Precondition,

  /** Manage Server in this server, or one of the bot's owners (BOT_OWNER_IDS). */
  moderator: { name: 'moderator', run: (g) => (isModerator(g.ctx, g.subject) ? undefined : { key: 'admin:errors.needManageServer' }) } satisfies Precondition,

  /** One of the bot's owners (BOT_OWNER_IDS). */
  botOwner: { name: 'botOwner', run: (g) => (g.ctx.config.BOT_OWNER_IDS.includes(g.subject.user.id) ? undefined : { key: 'admin:errors.ownerOnly' }) } satisfies Precondition,

  /** The job's owner, or a moderator (see `moderator`). */
  ownsOrModerates: (task: Pick<Task, 'userId'>): Precondition => ({
    name: 'ownsOrModerates',
    run: (g) => (g.subject.user.id === task.userId || isModerator(g.ctx, g.subject) ? undefined : { key: 'cancel.notYours' }),
  }),

  /** `check`, only when `when` says so (e.g. only for the interactions that use an option). */
  onlyIf: <S extends Subject>(when: (s: S) => boolean, check: Precondition): Precondition<S> => ({
    name: check.name,
    holds: check.holds,
    run: (g) => (when(g.subject) ? check.run(g) : undefined),
  }),
};

/** What a job that starts something new is checked for: /draw, /blend, /describe, a /describe pick. */
export const NEW_JOB: readonly Precondition[] = [preconditions.notBanned, preconditions.dailyQuota, preconditions.queueLimit];
/** What a job that follows up on a result is checked for (upscale, variation, zoom…): they only count toward the quotas. */
export const FOLLOW_UP_JOB: readonly Precondition[] = [preconditions.notBanned, preconditions.queueLimit];
