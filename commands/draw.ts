// /draw <prompt> [image…image5] [sref] [oref] [cref]: after the preconditions (ban, quotas, queue; image prompts where a relay takes
// them), validate (attached image prompts included), defer, translate Chinese, refuse banned words, apply the
// user's /settings and hand the job to src/tasks; the engine does the rest.
import { ApplicationCommandOptionType, ApplicationCommandType, InteractionContextType, ApplicationIntegrationType, MessageFlags, type ChatInputCommandInteraction } from 'discord.js';
import { startJob } from '../src/discord/jobs.ts';
import { NEW_JOB, preconditions } from '../src/discord/preconditions.ts';
import { followUpPrivately } from '../src/discord/private-reply.ts';
import { waitingMessage } from '../src/messages/render.ts';
import { described, translator } from '../src/i18n.ts';
import { parsePrompt } from '../src/prompt/parse.ts';
import { REFERENCE_KINDS, typedReferences, type ReferenceKind } from '../src/prompt/references.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../src/prompt/validate.ts';
import { usableMode, withAspectRatio, withVersion } from '../src/settings/apply.ts';
import { MAX_IMAGES, attachmentOption, checkAttachments, checkReferences, refuse } from './images.ts';
import type { Command } from './types.ts';
import { deferTranslated } from '../src/discord/prompt-gate.ts';

const t = translator('en-US');
/** image, image2 … image5: image prompts, as attachments. */
const IMAGE_OPTIONS = Array.from({ length: MAX_IMAGES }, (_, i) =>
  i === 0 ? t('images:commands.draw.image.name') : t('images:commands.draw.more.name', { n: i + 1 }));
/** Reference images (style, omni, character), as attachments: `--sref <url>`… at submit. */
const REFERENCE_OPTIONS = Object.fromEntries(REFERENCE_KINDS.map((k) => [k, t(`images:commands.draw.${k}.name`)])) as Record<ReferenceKind, string>;

export const draw = {
  data: {
    type: ApplicationCommandType.ChatInput,
    ...described('commands:draw'),
    contexts: [InteractionContextType.Guild],
    integration_types: [ApplicationIntegrationType.GuildInstall],
    options: [
      {
        type: ApplicationCommandOptionType.String,
        ...described('commands:draw.options.prompt'),
        required: true,
        max_length: PROMPT_MAX_LENGTH,
      },
      attachmentOption('images:commands.draw.image'),
      ...[2, 3, 4, 5].map((n) => attachmentOption('images:commands.draw.more', { n })),
      ...REFERENCE_KINDS.map((k) => attachmentOption(`images:commands.draw.${k}`)),
    ],
  },

  preconditions: [
    preconditions.onlyIf(
      (i: ChatInputCommandInteraction) => IMAGE_OPTIONS.some((n) => i.options.getAttachment(n) !== null),
      preconditions.capability('imagePrompts', () => ({ key: 'images:errors.unsupportedAttachments' })),
    ),
    ...NEW_JOB,
  ],

  async execute(ctx, interaction, granted) {
    const check = checkPrompt(interaction.options.getString('prompt'));
    if (!check.ok) {
      await interaction.reply({ content: translator(interaction.locale)(check.error, check.vars), flags: MessageFlags.Ephemeral });
      return;
    }
    // Attached images are checked first (type, size, how many with the links typed in the prompt).
    const typedUrls = parsePrompt(check.prompt).filter((p) => p.kind === 'url').length;
    const attached = checkAttachments(interaction, IMAGE_OPTIONS, typedUrls);
    if (!attached.ok) return refuse(interaction, attached.key, attached.vars);
    // Reference images are links in the prompt for the relay (Midjourney fetches them): any relay takes them.
    const referenced = checkReferences(interaction, REFERENCE_OPTIONS, typedReferences(check.prompt));
    if (!referenced.ok) return refuse(interaction, referenced.key, referenced.vars);
    const input =
      attached.images.length > 0 || referenced.refs.length > 0
        ? { images: attached.images, ...(referenced.refs.length > 0 && { refs: referenced.refs }) }
        : undefined;
    const t = translator(interaction.locale);

    // Whatever can be decided without asking Baidu (no Chinese, not configured, or cached) is decided before
    // deferring: a refusal then stays private. After a public defer it can only be made private by a
    // follow-up, and the public "thinking…" reply is then deleted.
    const pieces = parsePrompt(check.prompt);
    const translation = await deferTranslated(ctx, interaction, pieces);
    if (!translation) return;

    // The user's default ratio and version go upstream only; the headline keeps the prompt as typed.
    const defaults = ctx.settings.get(interaction.user.id);
    const job = { action: 'imagine', prompt: check.prompt, promptUpstream: withVersion(withAspectRatio(translation.upstream, defaults.aspectRatio), defaults.version) } as const;
    // Not where every relay account translates Chinese itself: the prompt is translated there after all.
    const relayTranslates = ctx.accounts.list.every((a) => a.provider.capabilities.translatesPrompts);
    if ((translation.status === 'notConfigured' || translation.status === 'failed') && !relayTranslates) {
      // The job goes on with the text as typed; only the user needs to know why.
      const draft = { ...job, userId: interaction.user.id, locale: interaction.locale };
      await followUpPrivately(interaction, t(`translate:${translation.status}`), waitingMessage(draft).content).catch((err: unknown) =>
        ctx.log.warn({ err }, 'could not tell the user their prompt was not translated'),
      );
    }
    await startJob(ctx, interaction, granted, { ...job, input, mode: usableMode(ctx.accounts, defaults.mode) });
  },
} satisfies Command;
