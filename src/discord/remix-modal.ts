// Remix: with /settings remix on, V1–V4, 🔄, Vary and pans first ask for the prompt again (prefilled with the
// job's), as Midjourney's remix mode does, where the job's relay takes a new prompt for that action
// (capabilities.remix). The edited prompt passes the same checks as /draw: validation, translation, banned words.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData, type ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import type { Translate } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../prompt/validate.ts';
import { withAspectRatio, withVersion } from '../settings/apply.ts';
import { isInternalAction, type InternalAction } from '../upstream/actions.ts';
import { decodeCustomId, encodeCustomId } from '../messages/custom-id.ts';
import { formParent } from './form-parent.ts';
import { startJob } from './jobs.ts';
import { FOLLOW_UP_JOB, refuse as refuseWith, runPreconditions } from './preconditions.ts';
import { deferTranslated } from './prompt-gate.ts';

const PROMPT_INPUT = 'prompt';

/** A click that asks for the prompt first: the user has remix on and the parent's relay takes a prompt for it. */
export function wantsRemix(ctx: Pick<AppContext, 'settings' | 'accounts'>, userId: string, parent: Task, action: InternalAction): boolean {
  if (!ctx.settings.get(userId).remix) return false;
  return ctx.accounts.providerFor(parent).capabilities.remix?.includes(action) ?? false;
}

/** The modal a remix click answers with; its custom_id names the parent and the action like the button's. */
export function remixModal(parent: Task, action: InternalAction, t: Translate): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId(parent.id, action),
    title: t('queue:remix.title'),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: PROMPT_INPUT,
            label: t('queue:remix.prompt'),
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: PROMPT_MAX_LENGTH,
            required: true,
            value: parent.prompt.slice(0, PROMPT_MAX_LENGTH),
          },
        ],
      },
    ],
  };
}

/** A submitted modal is a remix unless it is Custom Zoom's. */
export function isRemixModal(customId: string): boolean {
  const parsed = decodeCustomId(customId);
  return parsed !== undefined && parsed.action !== 'zoom:custom' && isInternalAction(parsed.action);
}

export async function handleRemixModal(ctx: AppContext, interaction: ModalSubmitInteraction): Promise<void> {
  const refuse = (key: string, vars?: Record<string, unknown>) => refuseWith(interaction, { key, vars });
  const form = await formParent(ctx, interaction, isInternalAction);
  if (!form) return;
  const { parent, action } = form;
  // The user may have been banned, or run out of quota, while the modal was open.
  const granted = await runPreconditions(ctx, interaction, FOLLOW_UP_JOB);
  if (!granted) return;

  // Bad input loses nothing: the user hears why, privately, and can click again.
  const check = checkPrompt(interaction.fields.getTextInputValue(PROMPT_INPUT));
  if (!check.ok) return refuse(check.error, check.vars);
  const pieces = parsePrompt(check.prompt);
  const translation = await deferTranslated(ctx, interaction, pieces);
  if (!translation) return;
  // As for /draw: the clicker's default ratio and version go upstream only where the prompt sets none.
  const defaults = ctx.settings.get(interaction.user.id);
  const promptUpstream = withVersion(withAspectRatio(translation.upstream, defaults.aspectRatio), defaults.version);
  await startJob(ctx, interaction, granted, { action, parentId: parent.id, prompt: check.prompt, promptUpstream });
}
