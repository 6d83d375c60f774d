// /info: what a user may want to know before starting a job — their use of today's quota and the server's,
// their jobs in the queue, how long the queue is, and how each relay account is doing. Private.
import { ApplicationCommandType, ApplicationIntegrationType, InteractionContextType, MessageFlags } from 'discord.js';
import { described, translator } from '../src/i18n.ts';
import { isVideoAction } from '../src/upstream/actions.ts';
import type { Command } from './types.ts';

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

export const info = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('queue:info.command'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
  },

  async execute(ctx, interaction) {
    const t = translator(interaction.locale);
    const who = { guildId: interaction.guildId, userId: interaction.user.id };
    const [usage, { queue, inFlight }] = await Promise.all([ctx.quotas.usage(who), ctx.admin.liveQueue()]);
    const reset = unix(usage.reset);
    const accounts = ctx.accounts.list.map((a) => {
      const state = ctx.accounts.state(a.id);
      const vars = { account: a.id, inFlight: inFlight.get(a.id) ?? 0, concurrency: a.concurrency };
      return state.state === 'ok'
        ? t('queue:info.accountOk', vars)
        : t('queue:info.accountPaused', { ...vars, reason: t(`queue:info.reasons.${state.reason}`), until: unix(state.until) });
    });
    // Video is offered where a relay account can animate and the server has not turned it off.
    const videoLine = () => {
      if (!ctx.accounts.list.some((a) => a.provider.capabilities.actions.some((x) => isVideoAction(x)))) return t('video:info.unsupported');
      if (ctx.admin.videoDisabled(interaction.guildId)) return t('video:info.disabled');
      return t('video:info.enabled', { weight: ctx.quotas.videoWeight });
    };
    const content = [
      t('queue:info.title'),
      usage.user.limit === null ? t('queue:info.youUnlimited', usage.user) : t('queue:info.you', { ...usage.user, reset }),
      usage.guild.limit === null ? t('queue:info.serverUnlimited', usage.guild) : t('queue:info.server', { ...usage.guild, reset }),
      t('queue:info.yourJobs', { ...usage.queue, max: ctx.quotas.limits.USER_MAX_QUEUED }),
      t('queue:info.queue', queue),
      videoLine(),
      t('queue:info.accounts'),
      ...accounts,
    ].join('\n');
    await interaction.reply({ content, flags: MessageFlags.Ephemeral, allowedMentions: { parse: [] } });
  },
} satisfies Command;
