// /draw <prompt>: validate, defer within Discord's 3 s, store the job; the engine does the rest.
import { ApplicationCommandOptionType, ApplicationCommandType, InteractionContextType, ApplicationIntegrationType, MessageFlags } from 'discord.js';
import { localizations, translator } from '../src/i18n.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../src/prompt/validate.ts';
import type { Command } from './types.ts';

const t = translator('en-US');

export const draw = {
  data: {
    type: ApplicationCommandType.ChatInput,
    name: t('commands:draw.name'),
    name_localizations: localizations('commands:draw.name'),
    description: t('commands:draw.description'),
    description_localizations: localizations('commands:draw.description'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      {
        type: ApplicationCommandOptionType.String,
        name: t('commands:draw.options.prompt.name'),
        name_localizations: localizations('commands:draw.options.prompt.name'),
        description: t('commands:draw.options.prompt.description'),
        description_localizations: localizations('commands:draw.options.prompt.description'),
        required: true,
        max_length: PROMPT_MAX_LENGTH,
      },
    ],
  },

  async execute(ctx, interaction) {
    const check = checkPrompt(interaction.options.getString('prompt'));
    if (!check.ok) {
      await interaction.reply({ content: translator(interaction.locale)(check.error, check.vars), flags: MessageFlags.Ephemeral });
      return;
    }
    await interaction.deferReply();
    await ctx.tasks.accept({ interaction, action: 'imagine', prompt: check.prompt, promptUpstream: check.prompt });
  },
} satisfies Command;
