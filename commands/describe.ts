// /describe image: four prompts Midjourney would write for a picture, each with a button that draws it.
import { ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { acceptJob, refuseJobIfDenied } from '../src/admin/access.ts';
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

  async execute(ctx, interaction) {
    if (!ctx.accounts.can('describe')) {
      return refuse(interaction, 'images:errors.unsupportedCommand', { command: translator(interaction.locale)('images:commands.describe.name') });
    }
    const check = checkAttachments(interaction, IMAGE_OPTION);
    if (!check.ok) return refuse(interaction, check.key, check.vars);
    if (check.images.length !== 1) return refuse(interaction, 'images:errors.tooMany', { count: check.images.length, max: 1 });
    if (await refuseJobIfDenied(ctx, interaction, 'draw')) return;
    const name = attachmentNames(interaction, IMAGE_OPTION).join(' ');
    await interaction.deferReply();
    await acceptJob(ctx, interaction, { action: 'describe', prompt: name, promptUpstream: name, input: { images: check.images } });
  },
} satisfies Command;
