// Attached images, checked before anything else: image types only, a size cap, at most five per job. Only what
// Discord's resolved attachment says is read here (type and size); the bytes are fetched from Discord's CDN at
// submit time, and only for relays that want them. URLs a user typed are never fetched: they go upstream as text.
import { ApplicationCommandOptionType, MessageFlags, type APIApplicationCommandAttachmentOption, type ChatInputCommandInteraction } from 'discord.js';
import type { TaskInput } from '../src/db/schema.ts';
import { described, translator } from '../src/i18n.ts';
import { REFERENCE_KINDS, type ReferenceKind } from '../src/prompt/references.ts';
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
    const wrong = misfit(a);
    if (wrong) return wrong;
  }
  return { ok: true, images: attachments.map((a) => ({ url: a.url, contentType: contentTypeOf(a) })) };
}

type Attached = NonNullable<ReturnType<ChatInputCommandInteraction['options']['getAttachment']>>;
const contentTypeOf = (a: Attached) => (a.contentType ?? '').split(';')[0]!.trim().toLowerCase();

/** Why an attachment cannot be used as an image (its type, its size), or undefined when it can. */
function misfit(a: Attached): { ok: false; key: string; vars: Record<string, unknown> } | undefined {
  if (!IMAGE_TYPES.has(contentTypeOf(a))) return { ok: false, key: 'images:errors.notImage', vars: { file: a.name } };
  if (a.size > MAX_IMAGE_BYTES) {
    return { ok: false, key: 'images:errors.tooLarge', vars: { file: a.name, size: (a.size / 1024 / 1024).toFixed(1), max: MAX_IMAGE_BYTES / 1024 / 1024 } };
  }
  return undefined;
}

export type ReferencesCheck = { ok: true; refs: NonNullable<TaskInput['refs']> } | { ok: false; key: string; vars?: Record<string, unknown> };

/**
 * The reference images given in the options named per kind, checked like image prompts; `typed` lists the
 * kinds the prompt already sets (a second `--oref` would be refused upstream, so it is refused here).
 */
export function checkReferences(interaction: ChatInputCommandInteraction, names: Readonly<Record<ReferenceKind, string>>, typed: readonly ReferenceKind[]): ReferencesCheck {
  const refs: NonNullable<TaskInput['refs']> = [];
  for (const kind of REFERENCE_KINDS) {
    const a = interaction.options.getAttachment(names[kind]);
    if (!a) continue;
    if (typed.includes(kind)) return { ok: false, key: 'images:errors.referenceTwice', vars: { param: `--${kind}`, option: names[kind] } };
    const wrong = misfit(a);
    if (wrong) return wrong;
    refs.push({ kind, url: a.url, contentType: contentTypeOf(a) });
  }
  return { ok: true, refs };
}

/** The names of the files, for the job's headline. */
export function attachmentNames(interaction: ChatInputCommandInteraction, names: readonly string[]): string[] {
  return names.map((n) => interaction.options.getAttachment(n)?.name).filter((n): n is string => Boolean(n));
}

/** A private, localized refusal. */
export async function refuse(interaction: ChatInputCommandInteraction, key: string, vars?: Record<string, unknown>): Promise<void> {
  await interaction.reply({ content: translator(interaction.locale)(key, vars), flags: MessageFlags.Ephemeral });
}
