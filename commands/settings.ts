// /settings [mode] [aspect] [version] [remix]: each user's defaults for new jobs. Without an option it shows them. A speed mode
// no relay account serves is refused (the job would wait for an account that never takes it).
import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType, MessageFlags } from 'discord.js';
import { SPEED_MODES, type SpeedMode } from '../src/db/schema.ts';
import { described, localizations, translator, type Translate } from '../src/i18n.ts';
import { ASPECT_RATIOS, MODEL_VERSIONS, versionParam } from '../src/settings/apply.ts';
import type { Defaults } from '../src/settings/repo.ts';
import type { Accounts } from '../src/upstream/accounts.ts';
import type { Command } from './types.ts';

const en = translator('en-US');
const DEFAULT = 'default';
const OPTION = {
  mode: en('queue:settings.command.options.mode.name'),
  aspect: en('queue:settings.command.options.aspect.name'),
  version: en('queue:settings.command.options.version.name'),
  remix: en('queue:settings.command.options.remix.name'),
};
/** The name a version choice shows: `V8.1`, `V7`, `Niji 7`. */
const versionName = (v: string) => (v.startsWith('niji') ? `Niji ${v.slice(5)}` : `V${v}`);

const choice = (key: string, value: string) => ({ name: en(key), name_localizations: localizations(key), value });

export const settings = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('queue:settings.command'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      {
        type: ApplicationCommandOptionType.String,
        ...described('queue:settings.command.options.mode'),
        choices: [choice('queue:settings.command.choices.modeDefault', DEFAULT), ...SPEED_MODES.map((m) => choice(`queue:settings.modes.${m}`, m))],
      },
      {
        type: ApplicationCommandOptionType.String,
        ...described('queue:settings.command.options.aspect'),
        choices: [choice('queue:settings.command.choices.aspectDefault', DEFAULT), ...ASPECT_RATIOS.map((r) => ({ name: r, value: r }))],
      },
      {
        type: ApplicationCommandOptionType.String,
        ...described('queue:settings.command.options.version'),
        choices: [choice('queue:settings.command.choices.versionDefault', DEFAULT), ...MODEL_VERSIONS.map((v) => ({ name: versionName(v), value: v }))],
      },
      {
        type: ApplicationCommandOptionType.String,
        ...described('queue:settings.command.options.remix'),
        choices: [choice('queue:settings.command.choices.remixOn', 'on'), choice('queue:settings.command.choices.remixOff', 'off')],
      },
    ],
  },

  async execute(ctx, interaction) {
    const t = translator(interaction.locale);
    const reply = (content: string) => interaction.reply({ content, flags: MessageFlags.Ephemeral }).then(() => undefined);
    const mode = interaction.options.getString(OPTION.mode);
    const aspect = interaction.options.getString(OPTION.aspect);
    const version = interaction.options.getString(OPTION.version);
    const remix = interaction.options.getString(OPTION.remix);
    if (mode === null && aspect === null && version === null && remix === null) return reply(summary(t, ctx.settings.get(interaction.user.id), ctx.accounts));

    const change: Partial<Defaults> = {};
    if (mode !== null) {
      if (mode !== DEFAULT && !(SPEED_MODES as readonly string[]).includes(mode)) return reply(t('errors.internal'));
      if (mode !== DEFAULT && !ctx.accounts.serves(mode as SpeedMode)) {
        const available = SPEED_MODES.filter((m) => ctx.accounts.serves(m)).map((m) => t(`queue:settings.modes.${m}`));
        return reply(t('queue:settings.modeUnsupported', { mode: t(`queue:settings.modes.${mode}`), available: available.join(', ') }));
      }
      change.mode = mode === DEFAULT ? null : (mode as SpeedMode);
    }
    if (aspect !== null) {
      if (aspect !== DEFAULT && !(ASPECT_RATIOS as readonly string[]).includes(aspect)) return reply(t('errors.internal'));
      change.aspectRatio = aspect === DEFAULT ? null : aspect;
    }
    if (version !== null) {
      if (version !== DEFAULT && !(MODEL_VERSIONS as readonly string[]).includes(version)) return reply(t('errors.internal'));
      change.version = version === DEFAULT ? null : version;
    }
    if (remix !== null) {
      if (remix !== 'on' && remix !== 'off') return reply(t('errors.internal'));
      change.remix = remix === 'on';
    }
    const saved = await ctx.settings.update(interaction.user.id, change);
    ctx.log.info({ userId: interaction.user.id, mode: saved.mode, aspectRatio: saved.aspectRatio, version: saved.version, remix: saved.remix }, 'user settings changed');
    return reply(`${t('queue:settings.saved')}\n${summary(t, saved, ctx.accounts)}`);
  },
} satisfies Command;

function summary(t: Translate, defaults: Defaults, accounts: Pick<Accounts, 'serves'>): string {
  const modeName = defaults.mode && t(`queue:settings.modes.${defaults.mode}`);
  const mode = !defaults.mode
    ? t('queue:settings.modeDefault')
    : accounts.serves(defaults.mode) ? modeName! : t('queue:settings.modeUnavailable', { mode: modeName });
  const aspect = defaults.aspectRatio ?? t('queue:settings.aspectDefault');
  const version = defaults.version ? versionName(defaults.version) : t('queue:settings.versionDefault');
  const lines = [t('queue:settings.summary', { mode, aspect }), t('queue:settings.versionLine', { version }), t(defaults.remix ? 'queue:settings.remixOn' : 'queue:settings.remixOff')];
  if (defaults.aspectRatio) lines.push(t('queue:settings.aspectNote', { ratio: defaults.aspectRatio }));
  if (defaults.version) lines.push(t('queue:settings.versionNote', { param: versionParam(defaults.version) }));
  return lines.join('\n');
}
