// Handing a job to src/tasks once its interaction is deferred. When the exact check refuses it there (a job of
// the same user or server got in first, or another instance's), the user is told privately and the public
// "thinking…" reply is removed.
import type { MessageFlags } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { translator } from '../i18n.ts';
import { JobRefused } from '../tasks/accept.ts';
import type { JobRequest } from '../tasks/service.ts';
import type { Granted } from './preconditions.ts';
import { followUpPrivately } from './private-reply.ts';

interface Deferred {
  locale: string;
  editReply(options: { content: string; allowedMentions: { parse: [] } }): Promise<unknown>;
  followUp(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
  deleteReply(): Promise<unknown>;
}

/** Stores the job of a deferred interaction under the limits its preconditions granted; undefined when refused. */
export async function startJob(
  ctx: Pick<AppContext, 'tasks' | 'log'>,
  interaction: Deferred & JobRequest['interaction'],
  granted: Granted,
  job: Omit<JobRequest, 'interaction'>,
): Promise<Task | undefined> {
  try {
    const task = await ctx.tasks.accept({ ...job, interaction }, granted.applied);
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
