// /shorten prompt: Midjourney's shorter versions of a long prompt (up to five), each with a button that draws
// it for whoever clicks. Only where a relay can shorten (capability `shorten`); the prompt is checked,
// translated and screened for banned words as /draw's is, and the job goes through the usual lifecycle.
import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType, MessageFlags } from 'discord.js';
import { startJob } from '../src/discord/jobs.ts';
import { NEW_JOB, preconditions } from '../src/discord/preconditions.ts';
import { described, translator } from '../src/i18n.ts';
import { parsePrompt } from '../src/prompt/parse.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../src/prompt/validate.ts';
import type { Command } from './types.ts';
import { deferTranslated } from '../src/discord/prompt-gate.ts';

export const shorten = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('commands:shorten'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      {
        type: ApplicationCommandOptionType.String,
        ...described('commands:shorten.options.prompt'),
        required: true,
        max_length: PROMPT_MAX_LENGTH,
      },
    ],
  },

  preconditions: [
    preconditions.capability('shorten', (i) => ({ key: 'images:errors.unsupportedCommand', vars: { command: translator(i.locale)('commands:shorten.name') } })),
    ...NEW_JOB,
  ],

  async execute(ctx, interaction, granted) {
    const t = translator(interaction.locale);
    const check = checkPrompt(interaction.options.getString('prompt'));
    if (!check.ok) {
      await interaction.reply({ content: t(check.error, check.vars), flags: MessageFlags.Ephemeral });
      return;
    }
    const pieces = parsePrompt(check.prompt);
    const translation = await deferTranslated(ctx, interaction, pieces);
    if (!translation) return;
    await startJob(ctx, interaction, granted, { action: 'shorten', prompt: check.prompt, promptUpstream: translation.upstream });
  },
} satisfies Command;
