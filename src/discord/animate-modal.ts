// Manual Animate: Midjourney asks for the motion prompt before animating. The modal is prefilled with the
// image's prompt; what is typed goes through the same checks as a /draw prompt (length, parameters, translation,
// banned words) and is sent upstream, translated, as the video job's prompt.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData, type ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import type { Translate } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { checkPrompt } from '../prompt/validate.ts';
import { isManualAnimate, type InternalAction } from '../upstream/actions.ts';
import { encodeCustomId } from '../messages/custom-id.ts';
import { formParent } from './form-parent.ts';
import { startJob } from './jobs.ts';
import { FOLLOW_UP_JOB, refuse as refuseWith, runPreconditions } from './preconditions.ts';
import { deferTranslated } from './prompt-gate.ts';

const MOTION_INPUT = 'motion';
/** Discord's longest text input; checkPrompt holds the prompt to our own limit. */
const INPUT_MAX = 4000;

/** The modal a Manual Animate click answers with; its custom_id names the parent task and the action like a button's. */
export function animateModal(parent: Task, action: InternalAction, t: Translate): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId(parent.id, action),
    title: t('video:modal.title'),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: MOTION_INPUT,
            label: t('video:modal.motion'),
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: INPUT_MAX,
            required: true,
            value: parent.prompt.slice(0, INPUT_MAX),
          },
        ],
      },
    ],
  };
}

export async function handleAnimateModal(ctx: AppContext, interaction: ModalSubmitInteraction): Promise<void> {
  const refuse = (key: string, vars?: Record<string, unknown>) => refuseWith(interaction, { key, vars });
  const form = await formParent(ctx, interaction, isManualAnimate);
  if (!form) return;
  const { parent, action } = form;
  // Video may have been turned off, or the user banned, while the modal was open.
  if (ctx.admin.videoDisabled(interaction.guildId)) return refuse('video:errors.disabled');
  const check = checkPrompt(interaction.fields.getTextInputValue(MOTION_INPUT));
  if (!check.ok) return refuse(check.error, check.vars);
  const granted = await runPreconditions(ctx, interaction, FOLLOW_UP_JOB);
  if (!granted) return;
  // Chinese motion prompts go to Baidu like a /draw prompt's; banned words are checked typed and translated.
  const translation = await deferTranslated(ctx, interaction, parsePrompt(check.prompt));
  if (!translation) return;
  await startJob(ctx, interaction, granted, { action, parentId: parent.id, prompt: check.prompt, promptUpstream: translation.upstream });
}
