// The banned-word gate every typed prompt passes (/draw, /shorten, the Remix and Edit forms). A banned word,
// typed or in the English translation, refuses the prompt privately. What memory can decide (the words typed, a
// translation already cached) is decided before the reply is deferred, so that refusal is private from the
// start; a translation that needs Baidu comes after the defer (Discord's 3 s), and the public "thinking…" is then
// replaced by the private refusal.
import type { ChatInputCommandInteraction, ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import { translator } from '../i18n.ts';
import { bannedRefusal } from '../prompt/banned.ts';
import type { Piece } from '../prompt/parse.ts';
import type { PromptTranslation } from '../translate/translator.ts';
import { refuse } from './preconditions.ts';
import { followUpPrivately } from './private-reply.ts';

/** Defers the reply and translates the prompt; undefined when it was refused (the user has been answered). */
export async function deferTranslated(
  ctx: AppContext,
  interaction: ChatInputCommandInteraction | ModalSubmitInteraction,
  pieces: readonly Piece[],
): Promise<PromptTranslation | undefined> {
  const ready = ctx.translator.cached(pieces);
  const early = bannedRefusal(ctx.bannedWords, pieces, ready);
  if (early) {
    ctx.log.info({ userId: interaction.user.id, word: early.vars.word }, 'prompt refused: banned word');
    await refuse(interaction, early);
    return undefined;
  }
  await ctx.callbacks.defer(interaction);
  const translation = ready ?? (await ctx.translator.translate(pieces));
  const late = ready ? undefined : bannedRefusal(ctx.bannedWords, pieces, translation);
  if (late) {
    ctx.log.info({ userId: interaction.user.id, word: late.vars.word }, 'prompt refused: banned word');
    const t = translator(interaction.locale);
    await followUpPrivately(interaction, t(late.key, late.vars), t('translate:refusedPublic'));
    await interaction.deleteReply();
    return undefined;
  }
  return translation;
}
