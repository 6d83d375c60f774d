// Whether a user may start a job right now: bans (for /draw and buttons) and the server's daily quota (for
// /draw only, so a grid already made can still be upscaled). The one guard commands/draw.ts and the
// button handler call before they accept a job.
import { MessageFlags } from 'discord.js';
import { translator } from '../i18n.ts';
import type { AdminRepo } from './repo.ts';

export type JobKind = 'draw' | 'button';

export interface Refusal {
  key: string;
  vars?: Record<string, unknown>;
}

/** The start of the next UTC day: when daily quotas reset. */
export function nextUtcMidnight(now: Date): Date {
  return new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() + 1));
}

export async function jobRefusal(admin: AdminRepo, who: { guildId: string | null; userId: string }, kind: JobKind, now = new Date()): Promise<Refusal | undefined> {
  if (await admin.isBanned(who.guildId, who.userId)) return { key: 'admin:errors.banned' };
  if (kind !== 'draw' || !who.guildId) return undefined;
  const limit = await admin.dailyQuota(who.guildId);
  if (limit === null) return undefined;
  const reset = nextUtcMidnight(now);
  const used = await admin.countJobsSince(who.guildId, new Date(reset.getTime() - 86_400_000));
  // Concurrent /draws can overshoot by the few that pass this check together: a soft limit, no lock needed.
  if (used < limit) return undefined;
  return { key: 'admin:errors.quotaReached', vars: { limit, reset: Math.floor(reset.getTime() / 1000) } };
}

interface Replyable {
  guildId: string | null;
  user: { id: string };
  locale: string;
  reply(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
}

/** Answers privately and returns true when the user may not start this job; false lets the caller go on. */
export async function refuseJobIfDenied(ctx: { admin: AdminRepo }, interaction: Replyable, kind: JobKind): Promise<boolean> {
  const refusal = await jobRefusal(ctx.admin, { guildId: interaction.guildId, userId: interaction.user.id }, kind);
  if (!refusal) return false;
  await interaction.reply({ content: translator(interaction.locale)(refusal.key, refusal.vars), flags: MessageFlags.Ephemeral });
  return true;
}
