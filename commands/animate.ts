// /animate image [prompt] [motion] [end-image] [loop]: an uploaded image animated into a batch of four clips, as
// an upscale's Animate button does (U1–U4 picks, then Extend), on relays that animate an image by its URL
// (capability `animateImages`). The image is checked like /describe's, the motion prompt like /draw's (banned
// words, translation); the job counts VIDEO_QUOTA_WEIGHT and is refused where the server turned video off.
import { ApplicationCommandOptionType, ApplicationCommandType, ApplicationIntegrationType, InteractionContextType } from 'discord.js';
import { startJob } from '../src/discord/jobs.ts';
import { NEW_JOB, preconditions } from '../src/discord/preconditions.ts';
import { deferTranslated } from '../src/discord/prompt-gate.ts';
import { described, localizations, translator } from '../src/i18n.ts';
import { parsePrompt } from '../src/prompt/parse.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../src/prompt/validate.ts';
import { attachmentNames, attachmentOption, checkAttachments, refuse } from './images.ts';
import type { Command } from './types.ts';

const t = translator('en-US');
const KEY = 'video:command';
const IMAGE = t(`${KEY}.image.name`);
const END_IMAGE = t(`${KEY}.endImage.name`);
const MOTIONS = ['low', 'high'] as const;

export const animate = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described(KEY),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      attachmentOption(`${KEY}.image`, { required: true }),
      { type: ApplicationCommandOptionType.String, ...described(`${KEY}.prompt`), max_length: PROMPT_MAX_LENGTH },
      {
        type: ApplicationCommandOptionType.String,
        ...described(`${KEY}.motion`),
        choices: MOTIONS.map((m) => ({ name: t(`${KEY}.motion.${m}`), name_localizations: localizations(`${KEY}.motion.${m}`), value: m })),
      },
      attachmentOption(`${KEY}.endImage`),
      { type: ApplicationCommandOptionType.Boolean, ...described(`${KEY}.loop`) },
    ],
  },

  preconditions: [
    preconditions.capability('animateImages', (i) => ({ key: 'images:errors.unsupportedCommand', vars: { command: translator(i.locale)(`${KEY}.name`) } })),
    preconditions.videoOn,
    ...NEW_JOB,
  ],

  async execute(ctx, interaction, granted) {
    const check = checkAttachments(interaction, [IMAGE, END_IMAGE]);
    if (!check.ok) return refuse(interaction, check.key, check.vars);
    const loop = interaction.options.getBoolean('loop') ?? false;
    // A loop ends on the start frame: an end image as well would contradict it.
    if (loop && check.images.length > 1) return refuse(interaction, 'video:errors.loopAndEnd');
    const motion = (interaction.options.getString('motion') ?? 'low') === 'high' ? 'high' : 'low';
    const input = { images: check.images, video: { motion, loop } } as const;
    const typed = interaction.options.getString('prompt');
    if (typed === null || typed.trim() === '') {
      // Relays whose video endpoint requires a prompt: said at once, privately, rather than failing the job later.
      if (!ctx.accounts.animatesWithoutPrompt()) return refuse(interaction, 'video:errors.promptNeeded');
      // No motion prompt: the headline names the file; nothing but the image goes upstream.
      const name = attachmentNames(interaction, [IMAGE]).join(' ');
      await ctx.callbacks.defer(interaction);
      await startJob(ctx, interaction, granted, { action: 'animate', prompt: name, promptUpstream: '', input });
      return;
    }
    const prompt = checkPrompt(typed);
    if (!prompt.ok) return refuse(interaction, prompt.error, prompt.vars);
    const translation = await deferTranslated(ctx, interaction, parsePrompt(prompt.prompt));
    if (!translation) return;
    await startJob(ctx, interaction, granted, { action: 'animate', prompt: prompt.prompt, promptUpstream: translation.upstream, input });
  },
} satisfies Command;
