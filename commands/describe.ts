// /describe image: four prompts Midjourney would write for a picture, each with a button that draws it.
import { ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { startJob } from '../src/discord/jobs.ts';
import { NEW_JOB, preconditions } from '../src/discord/preconditions.ts';
import { described, translator } from '../src/i18n.ts';
import { attachmentNames, attachmentOption, checkAttachments, refuse } from './images.ts';
import type { Command } from './types.ts';

const t = translator('en-US');
const IMAGE_OPTION = [t('images:commands.describe.image.name')];

export const describe = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('images:commands.describe'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [attachmentOption('images:commands.describe.image', { required: true })],
  },

  preconditions: [
    preconditions.capability('describe', (i) => ({ key: 'images:errors.unsupportedCommand', vars: { command: translator(i.locale)('images:commands.describe.name') } })),
    ...NEW_JOB,
  ],

  async execute(ctx, interaction, granted) {
    const check = checkAttachments(interaction, IMAGE_OPTION);
    if (!check.ok) return refuse(interaction, check.key, check.vars);
    if (check.images.length !== 1) return refuse(interaction, 'images:errors.tooMany', { count: check.images.length, max: 1 });
    const name = attachmentNames(interaction, IMAGE_OPTION).join(' ');
    await ctx.callbacks.defer(interaction);
    await startJob(ctx, interaction, granted, { action: 'describe', prompt: name, promptUpstream: name, input: { images: check.images } });
  },
} satisfies Command;
