// Whether a user may start a job right now: bans (for every job) and the limits (src/admin/quotas.ts). The
// early check runs before the interaction is deferred, so a refusal stays private; TaskService.accept checks
// the limits again, exactly, when it stores the job, and acceptJob turns a late refusal into a private one.
import { MessageFlags } from 'discord.js';
import type { Task } from '../db/schema.ts';
import { followUpPrivately } from '../discord/private-reply.ts';
import { translator } from '../i18n.ts';
import type { Logger } from '../log.ts';
import type { AcceptInput, TaskService } from '../tasks/service.ts';
import { JobRefused, type JobKind, type Quotas, type Refusal, type Who } from './quotas.ts';
import type { AdminRepo } from './repo.ts';

export { nextUtcMidnight, type JobKind, type Refusal } from './quotas.ts';

/** Why this user may not start this job now (a ban, then the limits), or undefined. */
export async function jobRefusal(guard: { admin: Pick<AdminRepo, 'isBanned'>; quotas: Quotas }, who: Who, kind: JobKind, now = new Date()): Promise<Refusal | undefined> {
  if (await guard.admin.isBanned(who.guildId, who.userId)) return { key: 'admin:errors.banned' };
  return guard.quotas.refusal(who, kind, now);
}

interface Replyable {
  guildId: string | null;
  user: { id: string };
  locale: string;
  reply(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
}

/** Answers privately and returns true when the user may not start this job; false lets the caller go on. */
export async function refuseJobIfDenied(ctx: { admin: AdminRepo; quotas: Quotas }, interaction: Replyable, kind: JobKind): Promise<boolean> {
  const refusal = await jobRefusal(ctx, { guildId: interaction.guildId, userId: interaction.user.id }, kind);
  if (!refusal) return false;
  await interaction.reply({ content: translator(interaction.locale)(refusal.key, refusal.vars), flags: MessageFlags.Ephemeral });
  return true;
}

interface Deferred {
  locale: string;
  editReply(options: { content: string; allowedMentions: { parse: [] } }): Promise<unknown>;
  followUp(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
  deleteReply(): Promise<unknown>;
}

/**
 * Stores the job of a deferred interaction. When the exact check refuses it (a job of the same user or server
 * got in first), the user is told privately and the public "thinking…" reply is removed; returns undefined then.
 */
export async function acceptJob(
  ctx: { tasks: Pick<TaskService, 'accept'>; log: Logger },
  interaction: Deferred & AcceptInput['interaction'],
  job: Omit<AcceptInput, 'interaction'>,
): Promise<Task | undefined> {
  try {
    const task = await ctx.tasks.accept({ ...job, interaction });
    ctx.log.info({ taskId: task.id, userId: task.userId, action: task.action, prompt: task.prompt }, 'task accepted');
    return task;
  } catch (err) {
    if (!(err instanceof JobRefused)) throw err;
    ctx.log.info({ userId: interaction.user.id, action: job.action, refusal: err.refusal.key }, 'job refused by the limits');
    const t = translator(interaction.locale);
    await followUpPrivately(interaction, t(err.refusal.key, err.refusal.vars), t('queue:refusedPublic'));
    await interaction.deleteReply();
    return undefined;
  }
}
