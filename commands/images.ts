// Attached images, checked before anything else: image types only, a size cap, at most five per job. Only what
// Discord's resolved attachment says is read here (type and size); the bytes are fetched from Discord's CDN at
// submit time, and only for relays that want them. URLs a user typed are never fetched: they go upstream as text.
import { ApplicationCommandOptionType, MessageFlags, type APIApplicationCommandAttachmentOption, type ChatInputCommandInteraction } from 'discord.js';
import type { TaskInput } from '../src/db/schema.ts';
import { described, translator } from '../src/i18n.ts';
import { INPUT_IMAGE_MAX_BYTES } from '../src/upstream/provider.ts';

export const MAX_IMAGES = 5;
export const MAX_IMAGE_BYTES = INPUT_IMAGE_MAX_BYTES;
export const IMAGE_TYPES: ReadonlySet<string> = new Set(['image/png', 'image/jpeg', 'image/webp', 'image/gif']);

/** An attachment option whose name and description come from `images:<key>` (with `{{n}}` filled in). */
export function attachmentOption(key: string, opts: { n?: number; required?: boolean } = {}): APIApplicationCommandAttachmentOption {
  return {
    type: ApplicationCommandOptionType.Attachment,
    ...described(key, opts.n === undefined ? {} : { n: opts.n }),
    ...(opts.required && { required: true }),
  };
}

export type ImagesCheck = { ok: true; images: TaskInput['images'] } | { ok: false; key: string; vars?: Record<string, unknown> };

/** The attachments given in the named options, checked; `others` counts images linked in the prompt. */
export function checkAttachments(interaction: ChatInputCommandInteraction, names: readonly string[], others = 0): ImagesCheck {
  const attachments = names.map((n) => interaction.options.getAttachment(n)).filter((a) => a !== null);
  const count = attachments.length + others;
  if (count > MAX_IMAGES) return { ok: false, key: 'images:errors.tooMany', vars: { count, max: MAX_IMAGES } };
  for (const a of attachments) {
    const type = (a.contentType ?? '').split(';')[0]!.trim().toLowerCase();
    if (!IMAGE_TYPES.has(type)) return { ok: false, key: 'images:errors.notImage', vars: { file: a.name } };
    if (a.size > MAX_IMAGE_BYTES) {
      return { ok: false, key: 'images:errors.tooLarge', vars: { file: a.name, size: (a.size / 1024 / 1024).toFixed(1), max: MAX_IMAGE_BYTES / 1024 / 1024 } };
    }
  }
  return { ok: true, images: attachments.map((a) => ({ url: a.url, contentType: (a.contentType ?? '').split(';')[0]!.trim().toLowerCase() })) };
}

/** The names of the files, for the job's headline. */
export function attachmentNames(interaction: ChatInputCommandInteraction, names: readonly string[]): string[] {
  return names.map((n) => interaction.options.getAttachment(n)?.name).filter((n): n is string => Boolean(n));
}

/** A private, localized refusal. */
export async function refuse(interaction: ChatInputCommandInteraction, key: string, vars?: Record<string, unknown>): Promise<void> {
  await interaction.reply({ content: translator(interaction.locale)(key, vars), flags: MessageFlags.Ephemeral });
}
