// A click on one of our result buttons: decode the custom_id, check the job and the action against the
// database, run the preconditions, and start a child job owned by whoever clicked (anyone in the channel may
// click). ❌ is the one button that stops a job instead, and only its owner or a moderator may use it.
import type { ButtonInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { translator } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { checkPrompt } from '../prompt/validate.ts';
import type { CancelOutcome } from '../tasks/cancel.ts';
import { openRegionEditor } from '../editor/service.ts';
import { VARY_REGION, isDescribePick, isManualAnimate, isShortenPick, isVideoAction, isVideoJob, pickIndex, shortenIndex, type DescribePick, type TaskAction } from '../upstream/actions.ts';
import { animateModal } from './animate-modal.ts';
import { CANCEL, RETRY, SEED, decodeCustomId } from '../messages/custom-id.ts';
import { startJob } from './jobs.ts';
import { FOLLOW_UP_JOB, NEW_JOB, preconditions, refuse as refuseWith, runPreconditions } from './preconditions.ts';
import { remixModal, wantsRemix } from './remix-modal.ts';
import { editModal } from './edit-modal.ts';
import { zoomModal } from './zoom-modal.ts';

export async function handleButton(ctx: AppContext, interaction: ButtonInteraction): Promise<void> {
  const t = translator(interaction.locale);
  const refuse = (key: string) => refuseWith(interaction, { key });

  const parsed = decodeCustomId(interaction.customId);
  if (!parsed) return refuse('errors.unknownButton');
  const parent = await ctx.repo.get(parsed.taskId);
  if (!parent) return refuse('errors.expired');
  if (parsed.action === CANCEL) return cancelJob(ctx, interaction, parent);
  if (parsed.action === RETRY) return retryJob(ctx, interaction, parent);
  if (parent.status === 'failed' || parent.status === 'cancelled') return refuse('errors.expired');
  if (parsed.action === SEED) return tellSeed(ctx, interaction, parent);
  if (isDescribePick(parsed.action)) return drawDescribed(ctx, interaction, parent, parsed.action);
  if (isShortenPick(parsed.action)) {
    const shortened = parent.action === 'shorten' ? parent.descriptions?.[shortenIndex(parsed.action) - 1] : undefined;
    return drawSuggested(ctx, interaction, parent, shortened, 'commands:shorten.pickUnavailable');
  }
  // The result is stored before it is uploaded, so a click that races the final status update still works.
  if (!parent.imageUrls) return refuse('errors.notFinished');
  // 🖌️ Vary (Region): a private link to the editor page; the job starts when the page is submitted.
  if (parsed.action === VARY_REGION) return ctx.editorSessions ? openRegionEditor(ctx, ctx.editorSessions, interaction, parent) : refuse('errors.actionUnavailable');
  if (!parent.actions?.includes(parsed.action)) return refuse('errors.actionUnavailable');
  // A server may turn video off (/draw-admin video): its Animate and Extend buttons then start nothing.
  if (isVideoAction(parsed.action) && ctx.admin.videoDisabled(interaction.guildId)) return refuse('video:errors.disabled');
  // Upscales, variations and the like follow up on a result: not under the daily quotas (they only count).
  const granted = await runPreconditions(ctx, interaction, FOLLOW_UP_JOB);
  if (!granted) return;
  // Custom Zoom first asks for the factor; the job starts when the modal is submitted.
  if (parsed.action === 'zoom:custom') return interaction.showModal(zoomModal(parent, t));
  // Edit asks for the new prompt first (prefilled with this one); the job starts when the modal is submitted.
  if (parsed.action === 'edit') return interaction.showModal(editModal(parent, t));
  // Manual Animate first asks for the motion prompt; the job starts when the modal is submitted.
  if (isManualAnimate(parsed.action)) return interaction.showModal(animateModal(parent, parsed.action, t));
  // Remix on: the prompt is asked for again; the job starts when the modal is submitted (remix-modal.ts).
  if (wantsRemix(ctx, interaction.user.id, parent, parsed.action)) return interaction.showModal(remixModal(parent, parsed.action, t));

  await ctx.callbacks.defer(interaction);
  await startJob(ctx, interaction, granted, { action: parsed.action, parentId: parent.id, prompt: parent.prompt, promptUpstream: parent.promptUpstream });
}

/** 1️⃣–4️⃣ under a /describe result: a /draw of that suggested prompt, for whoever clicked. */
async function drawDescribed(ctx: AppContext, interaction: ButtonInteraction, parent: Task, pick: DescribePick): Promise<void> {
  const suggested = parent.action === 'describe' ? parent.descriptions?.[pickIndex(pick) - 1] : undefined;
  return drawSuggested(ctx, interaction, parent, suggested, 'images:errors.pickUnavailable');
}

/** A /draw of a prompt a job suggested (/describe's, /shorten's), checked like a typed one. */
async function drawSuggested(ctx: AppContext, interaction: ButtonInteraction, parent: Task, suggested: string | undefined, unavailable: string): Promise<void> {
  const refuse = (key: string, vars?: Record<string, unknown>) => refuseWith(interaction, { key, vars });
  if (!suggested) return refuse(unavailable);
  const check = checkPrompt(suggested);
  if (!check.ok) return refuse(check.error, check.vars);
  const banned = ctx.bannedWords.find(parsePrompt(check.prompt));
  if (banned) return refuse('translate:banned', { word: banned.word });
  // A pick starts a new /draw: under the daily quotas like one.
  const granted = await runPreconditions(ctx, interaction, NEW_JOB);
  if (!granted) return;
  await ctx.callbacks.defer(interaction);
  await startJob(ctx, interaction, granted, { action: 'imagine', parentId: parent.id, prompt: check.prompt, promptUpstream: check.prompt });
}

/**
 * ↻ Retry on a failed job: the same action on the same prompt, inputs and parent, as a new job of whoever
 * clicked, under that user's limits (a command's job under the daily quotas, a follow-up under the queue limit).
 */
async function retryJob(ctx: AppContext, interaction: ButtonInteraction, failed: Task): Promise<void> {
  if (failed.status !== 'failed') return refuseWith(interaction, { key: 'relay:retry.notFailed' });
  const command = ['imagine', 'blend', 'describe', 'shorten', 'animate'].includes(failed.action);
  if (isVideoJob(failed.action) && ctx.admin.videoDisabled(interaction.guildId)) return refuseWith(interaction, { key: 'video:errors.disabled' });
  const granted = await runPreconditions(ctx, interaction, command ? NEW_JOB : FOLLOW_UP_JOB);
  if (!granted) return;
  await ctx.callbacks.defer(interaction);
  await startJob(ctx, interaction, granted, {
    action: failed.action as TaskAction,
    ...(failed.parentId && { parentId: failed.parentId }),
    prompt: failed.prompt,
    promptUpstream: failed.promptUpstream,
    ...(failed.input && { input: failed.input }),
    ...(failed.mode && { mode: failed.mode }),
  });
}

/** 📋 on a result: its seed, privately, for whoever clicked (a question to the relay, not a job). */
async function tellSeed(ctx: AppContext, interaction: ButtonInteraction, parent: Task): Promise<void> {
  const provider = ctx.accounts.providerFor(parent);
  if (!parent.imageUrls || !parent.upstreamId) return refuseWith(interaction, { key: 'errors.notFinished' });
  if (!provider.capabilities.seed || !provider.seed) return refuseWith(interaction, { key: 'relay:seed.unavailable' });
  if (!(await runPreconditions(ctx, interaction, [preconditions.notBanned]))) return;
  const t = translator(interaction.locale);
  // The relay may take a while (trueai-org asks Midjourney and waits up to a minute): acknowledge first.
  await ctx.callbacks.defer(interaction, { ephemeral: true });
  let seed: string | undefined;
  try {
    seed = await provider.seed({ upstreamId: parent.upstreamId, upstreamData: parent.upstreamData ?? null, imageUrls: parent.imageUrls, prompt: parent.promptUpstream });
  } catch (err) {
    ctx.log.warn({ err, taskId: parent.id }, 'the relay did not tell the seed');
  }
  await interaction.editReply({ content: seed ? t('relay:seed.answer', { seed }) : t('relay:seed.unavailable'), allowedMentions: { parse: [] } });
}

/** ❌: the job's owner, a member who may manage the server, or a bot operator may stop it. */
async function cancelJob(ctx: AppContext, interaction: ButtonInteraction, task: Task): Promise<void> {
  const t = translator(interaction.locale);
  // Before the click is acknowledged a refusal is the reply; after (a relay was asked), a private follow-up.
  const say = (key: string, vars?: Record<string, unknown>) => refuseWith(interaction, { key, vars });
  const clicker = interaction.user.id;
  if (!(await runPreconditions(ctx, interaction, [preconditions.ownsOrModerates(task)]))) return;

  let result: CancelOutcome;
  try {
    result = await ctx.cancellation.cancel(task, {
      by: clicker,
      token: interaction.token,
      acknowledge: async () => {
        if (!interaction.deferred && !interaction.replied) await interaction.deferUpdate();
      },
    });
  } catch (err) {
    // Not the router's generic answer: after a deferred update, its editReply would overwrite the job's message.
    ctx.log.error({ err, taskId: task.id }, 'cancel failed');
    return say('errors.internal');
  }
  switch (result.outcome) {
    case 'cancelled':
      return;
    case 'refused':
      // Our own reasons are locale keys; a relay's own words are logged, not shown.
      return result.reason && /^(\w+:)?errors\./.test(result.reason) ? say('cancel.refusedBecause', { reason: t(result.reason) }) : say('cancel.refused');
    default:
      return say(`cancel.${result.outcome}`);
  }
}
