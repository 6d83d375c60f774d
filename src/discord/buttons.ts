// A click on one of our result buttons: decode the custom_id, check the job and the action against the
// database, and start a child job owned by whoever clicked (anyone in the channel may click).
import { MessageFlags, type ButtonInteraction } from 'discord.js';
import { refuseJobIfDenied } from '../admin/access.ts';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { translator } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { checkPrompt } from '../prompt/validate.ts';
import { isDescribePick, pickIndex, type DescribePick } from '../upstream/actions.ts';
import { decodeCustomId } from './custom-id.ts';
import { zoomModal } from './zoom-modal.ts';

export async function handleButton(ctx: AppContext, interaction: ButtonInteraction): Promise<void> {
  const t = translator(interaction.locale);
  const refuse = (key: string) => interaction.reply({ content: t(key), flags: MessageFlags.Ephemeral }).then(() => undefined);

  const parsed = decodeCustomId(interaction.customId);
  if (!parsed) return refuse('errors.unknownButton');
  const parent = await ctx.repo.get(parsed.taskId);
  if (!parent) return refuse('errors.expired');
  if (parent.status === 'failed' || parent.status === 'cancelled') return refuse('errors.expired');
  if (isDescribePick(parsed.action)) return drawDescribed(ctx, interaction, parent, parsed.action);
  // The result is stored before it is uploaded, so a click that races the final status update still works.
  if (!parent.imageUrls) return refuse('errors.notFinished');
  if (!parent.actions?.includes(parsed.action)) return refuse('errors.actionUnavailable');
  if (await refuseJobIfDenied(ctx, interaction, 'button')) return;
  // Custom Zoom first asks for the factor; the job starts when the modal is submitted.
  if (parsed.action === 'zoom:custom') return interaction.showModal(zoomModal(parent, t));

  await interaction.deferReply();
  await ctx.tasks.accept({
    interaction,
    action: parsed.action,
    parentId: parent.id,
    prompt: parent.prompt,
    promptUpstream: parent.promptUpstream,
  });
}

/** 1️⃣–4️⃣ under a /describe result: a /draw of that suggested prompt, for whoever clicked. */
async function drawDescribed(ctx: AppContext, interaction: ButtonInteraction, parent: Task, pick: DescribePick): Promise<void> {
  const t = translator(interaction.locale);
  const refuse = (key: string, vars?: Record<string, unknown>) => interaction.reply({ content: t(key, vars), flags: MessageFlags.Ephemeral }).then(() => undefined);
  const suggested = parent.action === 'describe' ? parent.descriptions?.[pickIndex(pick) - 1] : undefined;
  if (!suggested) return refuse('images:errors.pickUnavailable');
  const check = checkPrompt(suggested);
  if (!check.ok) return refuse(check.error, check.vars);
  const banned = ctx.bannedWords.find(parsePrompt(check.prompt));
  if (banned) return refuse('translate:banned', { word: banned.word });
  if (await refuseJobIfDenied(ctx, interaction, 'button')) return;
  await interaction.deferReply();
  await ctx.tasks.accept({ interaction, action: 'imagine', parentId: parent.id, prompt: check.prompt, promptUpstream: check.prompt });
}
