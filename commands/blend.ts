// /blend image1…image5 [dimensions]: two to five pictures blended into a new grid, on relays that can.
import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { startJob } from '../src/discord/jobs.ts';
import { NEW_JOB, preconditions } from '../src/discord/preconditions.ts';
import { described, localizations, translator } from '../src/i18n.ts';
import { usableMode } from '../src/settings/apply.ts';
import { BLEND_DIMENSIONS, BLEND_RATIO, type BlendDimensions } from '../src/upstream/provider.ts';
import { MAX_IMAGES, attachmentNames, attachmentOption, checkAttachments, refuse } from './images.ts';
import type { Command } from './types.ts';

const t = translator('en-US');
const IMAGE_OPTIONS = Array.from({ length: MAX_IMAGES }, (_, i) => t('images:commands.blend.image.name', { n: i + 1 }));

export const blend = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('images:commands.blend'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      attachmentOption('images:commands.blend.image', { n: 1, required: true }),
      attachmentOption('images:commands.blend.image', { n: 2, required: true }),
      {
        type: ApplicationCommandOptionType.String,
        ...described('images:commands.blend.dimensions'),
        choices: BLEND_DIMENSIONS.map((d) => ({
          name: t(`images:commands.blend.dimensions.${d}`),
          name_localizations: localizations(`images:commands.blend.dimensions.${d}`),
          value: d,
        })),
      },
      ...[3, 4, 5].map((n) => attachmentOption('images:commands.blend.image', { n })),
    ],
  },

  preconditions: [
    preconditions.capability('blend', (i) => ({ key: 'images:errors.unsupportedCommand', vars: { command: translator(i.locale)('images:commands.blend.name') } })),
    ...NEW_JOB,
  ],

  async execute(ctx, interaction, granted) {
    const check = checkAttachments(interaction, IMAGE_OPTIONS);
    if (!check.ok) return refuse(interaction, check.key, check.vars);
    if (check.images.length < 2) return refuse(interaction, 'images:errors.tooFew');
    const dimensions = (interaction.options.getString('dimensions') ?? 'square') as BlendDimensions;
    const ratio = `--ar ${BLEND_RATIO[dimensions] ?? '1:1'}`;
    await ctx.callbacks.defer(interaction);
    // The headline names the files and the shape; what goes upstream is the images and `dimensions`.
    const prompt = `${attachmentNames(interaction, IMAGE_OPTIONS).join(' ')} ${ratio}`;
    const defaults = ctx.settings.get(interaction.user.id);
    await startJob(ctx, interaction, granted, {
      action: 'blend',
      prompt,
      promptUpstream: prompt,
      input: { images: check.images, dimensions },
      mode: usableMode(ctx.accounts, defaults.mode),
    });
  },
} satisfies Command;
