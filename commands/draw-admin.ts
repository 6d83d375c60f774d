// /draw-admin: server admins (Manage Server) look after the bot in their server — purge old jobs, stats, bans,
// daily quotas (the server's and each member's). BOT_OWNER_IDS may also act on every server. Every answer is private and in the admin's language.
import {
  ApplicationCommandOptionType,
  ApplicationCommandType,
  ApplicationIntegrationType,
  InteractionContextType,
  MessageFlags,
  PermissionFlagsBits,
  type APIApplicationCommandBasicOption,
  type APIApplicationCommandSubcommandOption,
  type ChatInputCommandInteraction,
} from 'discord.js';
import type { AppContext } from '../src/context.ts';
import { preconditions } from '../src/discord/preconditions.ts';
import { nextUtcMidnight } from '../src/tasks/accept.ts';
import { described, localizations, translator, type Translate } from '../src/i18n.ts';
import type { Command } from './types.ts';

const en = translator('en-US');

/** Name, description and their localizations of `admin:command.<key>`. */
const command = (key: string) => described(`admin:command.${key}`);

const OPTION = {
  days: en('admin:command.options.days.name'),
  dryRun: en('admin:command.options.dryRun.name'),
  allServers: en('admin:command.options.allServers.name'),
  user: en('admin:command.options.user.name'),
  reason: en('admin:command.options.reason.name'),
  limit: en('admin:command.options.limit.name'),
  perUser: en('admin:command.options.perUser.name'),
  enabled: en('video:admin.options.enabled.name'),
};

const option = (key: keyof typeof OPTION, type: ApplicationCommandOptionType, extra: object = {}) =>
  ({ type, ...(key === 'enabled' ? described('video:admin.options.enabled') : command(`options.${key}`)), ...extra }) as APIApplicationCommandBasicOption;
const subcommand = (key: string, options: APIApplicationCommandBasicOption[]): APIApplicationCommandSubcommandOption => ({
  type: ApplicationCommandOptionType.Subcommand,
  ...command(key),
  options,
});

const allServers = option('allServers', ApplicationCommandOptionType.Boolean);

/** What one subcommand needs: who asked, where, and whether it is for every server. */
interface Request {
  ctx: AppContext;
  interaction: ChatInputCommandInteraction;
  t: Translate;
  guildId: string;
  everywhere: boolean;
  scope: string;
}

const unix = (d: Date) => Math.floor(d.getTime() / 1000);

const HANDLERS: Record<string, (r: Request) => Promise<string>> = {
  async purge({ ctx, interaction, t, guildId, everywhere, scope }) {
    const days = interaction.options.getInteger(OPTION.days) ?? ctx.config.TASK_RETENTION_DAYS;
    const dryRun = interaction.options.getBoolean(OPTION.dryRun) ?? false;
    const report = await ctx.maintenance.purge({ olderThanDays: days, dryRun, guildId: everywhere ? undefined : guildId });
    ctx.log.info({ by: interaction.user.id, guildId: report.guildId ?? 'all', days, dryRun, count: report.count, batches: report.batches }, 'purge finished');
    return t(dryRun ? 'admin:purge.dryRun' : 'admin:purge.done', { scope, n: report.count, batches: report.batches, cutoff: unix(report.cutoff) });
  },

  async stats({ ctx, t, guildId, everywhere, scope }) {
    const stats = await ctx.admin.stats(everywhere ? undefined : guildId);
    const accounts = stats.accounts.map((a) => {
      const finished = a.succeeded + a.failed;
      return t('admin:stats.account', {
        account: a.account,
        succeeded: a.succeeded,
        finished,
        rate: finished > 0 ? `${Math.round((100 * a.succeeded) / finished)}%` : t('admin:stats.none'),
        median: a.medianSeconds === null ? t('admin:stats.none') : t('admin:stats.seconds', { seconds: a.medianSeconds.toFixed(1) }),
      });
    });
    return [
      t('admin:stats.title', { scope, days: ctx.config.TASK_RETENTION_DAYS }),
      t('admin:stats.statuses', stats.byStatus),
      t('admin:stats.queue', stats.queue),
      t('admin:stats.accounts'),
      ...(accounts.length > 0 ? accounts : [t('admin:stats.noAccounts')]),
    ].join('\n');
  },

  async ban({ ctx, interaction, t, guildId, everywhere, scope }) {
    const user = interaction.options.getUser(OPTION.user, true);
    const reason = interaction.options.getString(OPTION.reason) ?? undefined;
    await ctx.admin.ban(everywhere ? null : guildId, user.id, interaction.user.id, reason);
    ctx.log.info({ by: interaction.user.id, guildId: everywhere ? 'all' : guildId, userId: user.id }, 'user banned');
    return t('admin:ban.done', { user: user.id, scope });
  },

  async unban({ ctx, interaction, t, guildId, everywhere, scope }) {
    const user = interaction.options.getUser(OPTION.user, true);
    const lifted = await ctx.admin.unban(everywhere ? null : guildId, user.id);
    if (lifted) ctx.log.info({ by: interaction.user.id, guildId: everywhere ? 'all' : guildId, userId: user.id }, 'user unbanned');
    return t(lifted ? 'admin:unban.done' : 'admin:unban.notBanned', { user: user.id, scope });
  },

  /** Turns video (Animate, Extend) on or off in the server, or says which it is. */
  async video({ ctx, interaction, t, guildId }) {
    const enabled = interaction.options.getBoolean(OPTION.enabled);
    if (enabled !== null) {
      await ctx.admin.setVideoDisabled(guildId, !enabled, interaction.user.id);
      ctx.log.info({ by: interaction.user.id, guildId, video: enabled }, 'video setting changed');
    }
    const off = ctx.admin.videoDisabled(guildId);
    return t(off ? 'video:admin.off' : 'video:admin.on', { weight: ctx.quotas.videoWeight });
  },

  async quota({ ctx, interaction, t, guildId }) {
    const limit = interaction.options.getInteger(OPTION.limit);
    const perUser = interaction.options.getInteger(OPTION.perUser);
    const defaults = ctx.quotas.limits;
    const lines: string[] = [];
    if (limit !== null) {
      // 0 drops the server's own limit: the bot's default (GUILD_DAILY_QUOTA, 0 = none) applies again.
      await ctx.admin.setDailyQuota(guildId, limit === 0 ? null : limit, interaction.user.id);
      ctx.log.info({ by: interaction.user.id, guildId, dailyQuota: limit || null }, 'daily quota set');
    }
    if (perUser !== null) {
      await ctx.admin.setUserDailyQuota(guildId, perUser, interaction.user.id);
      ctx.log.info({ by: interaction.user.id, guildId, userDailyQuota: perUser }, 'per-user daily quota set');
    }
    const { guild: used } = await ctx.quotas.usage({ guildId, userId: interaction.user.id });
    if (limit !== null) {
      if (limit > 0) lines.push(t('admin:quota.set', { limit, used: used.used }));
      else if (defaults.GUILD_DAILY_QUOTA > 0) lines.push(t('admin:quota.clearedToDefault', { limit: defaults.GUILD_DAILY_QUOTA, used: used.used }));
      else lines.push(t('admin:quota.cleared', { used: used.used }));
    }
    if (perUser !== null) lines.push(perUser === 0 ? t('admin:quota.perUser.unlimited') : t('admin:quota.perUser.set', { limit: perUser }));
    if (lines.length > 0) return lines.join('\n');

    const own = ctx.admin.quotaOverrides(guildId);
    const reset = unix(nextUtcMidnight(new Date()));
    const server = used.limit === null ? t('admin:quota.showUnlimited', { used: used.used }) : t('admin:quota.show', { limit: used.limit, used: used.used, reset });
    const daily = ctx.quotas.daily(guildId);
    const member =
      daily.user === null
        ? t('admin:quota.perUser.showUnlimited')
        : t(own.perUser === null ? 'admin:quota.perUser.showDefault' : 'admin:quota.perUser.show', { limit: daily.user });
    return `${server}\n${member}`;
  },
};

export const drawAdmin = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('admin:command'),
    // Hidden from members without Manage Server; server admins can change that, so execute() checks too.
    default_member_permissions: String(PermissionFlagsBits.ManageGuild),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      subcommand('purge', [
        option('days', ApplicationCommandOptionType.Integer, { min_value: 0, max_value: 3650 }),
        option('dryRun', ApplicationCommandOptionType.Boolean),
        allServers,
      ]),
      subcommand('stats', [allServers]),
      subcommand('ban', [
        option('user', ApplicationCommandOptionType.User, { required: true }),
        option('reason', ApplicationCommandOptionType.String, { max_length: 200 }),
        allServers,
      ]),
      subcommand('unban', [option('user', ApplicationCommandOptionType.User, { required: true }), allServers]),
      subcommand('quota', [
        option('limit', ApplicationCommandOptionType.Integer, { min_value: 0, max_value: 100_000 }),
        option('perUser', ApplicationCommandOptionType.Integer, { min_value: 0, max_value: 100_000 }),
      ]),
      { type: ApplicationCommandOptionType.Subcommand, ...described('video:admin'), options: [option('enabled', ApplicationCommandOptionType.Boolean)] },
    ],
  },

  // Discord hides the command from members without Manage Server, but a server can change that: checked here too.
  preconditions: [
    preconditions.guildOnly,
    preconditions.moderator,
    preconditions.onlyIf((i: ChatInputCommandInteraction) => i.options.getBoolean(OPTION.allServers) === true, preconditions.botOwner),
  ],

  async execute(ctx, interaction) {
    const t = translator(interaction.locale);
    const guildId = interaction.guildId!;
    const everywhere = interaction.options.getBoolean(OPTION.allServers) ?? false;
    const handler = HANDLERS[interaction.options.getSubcommand()];
    if (!handler) return void (await interaction.reply({ content: t('errors.unknownCommand'), flags: MessageFlags.Ephemeral }));
    // A purge of many rows takes longer than Discord's 3 s: acknowledge first, privately.
    await ctx.callbacks.defer(interaction, { ephemeral: true });
    const content = await handler({ ctx, interaction, t, guildId, everywhere, scope: t(everywhere ? 'admin:scope.all' : 'admin:scope.guild') });
    await interaction.editReply({ content, allowedMentions: { parse: [] } });
  },
} satisfies Command;
