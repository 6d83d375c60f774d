// ✏️ Edit on an upscale asks for the new prompt (prefilled with the job's own) before the job starts. What is
// typed is a new prompt like a /draw one: the same length and parameter checks, translation and banned words.
import { ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData, type ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import type { Translate } from '../i18n.ts';
import { parsePrompt } from '../prompt/parse.ts';
import { PROMPT_MAX_LENGTH, checkPrompt } from '../prompt/validate.ts';
import { decodeCustomId, encodeCustomId } from '../messages/custom-id.ts';
import { formParent } from './form-parent.ts';
import { startJob } from './jobs.ts';
import { FOLLOW_UP_JOB, refuse as refuseWith, runPreconditions } from './preconditions.ts';
import { deferTranslated } from './prompt-gate.ts';

const PROMPT_INPUT = 'prompt';
/** Discord's limit for a text input (and its prefilled value). */
const TEXT_INPUT_MAX = 4000;

/** The modal an Edit click answers with; its custom_id names the parent task like a button's. */
export function editModal(parent: Task, t: Translate): APIModalInteractionResponseCallbackData {
  const max = Math.min(PROMPT_MAX_LENGTH, TEXT_INPUT_MAX);
  return {
    custom_id: encodeCustomId(parent.id, 'edit'),
    title: t('buttons.edit'),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: PROMPT_INPUT,
            label: t('buttons.editPrompt'),
            style: TextInputStyle.Paragraph,
            min_length: 1,
            max_length: max,
            required: true,
            value: parent.prompt.slice(0, max),
          },
        ],
      },
    ],
  };
}

export async function handleEditModal(ctx: AppContext, interaction: ModalSubmitInteraction): Promise<void> {
  const refuse = (key: string, vars?: Record<string, unknown>) => refuseWith(interaction, { key, vars });
  const form = await formParent(ctx, interaction, (a): a is 'edit' => a === 'edit');
  if (!form) return;
  const { parent } = form;
  // The user may have been banned, or run out of quota, while the modal was open.
  const granted = await runPreconditions(ctx, interaction, FOLLOW_UP_JOB);
  if (!granted) return;

  const check = checkPrompt(interaction.fields.getTextInputValue(PROMPT_INPUT));
  if (!check.ok) return refuse(check.error, check.vars);
  const pieces = parsePrompt(check.prompt);
  const translation = await deferTranslated(ctx, interaction, pieces);
  if (!translation) return;
  await startJob(ctx, interaction, granted, { action: 'edit', parentId: parent.id, prompt: check.prompt, promptUpstream: translation.upstream });
}

/** Whether a modal submission is an Edit's (the other modal is Custom Zoom's). */
export const isEditModal = (customId: string) => decodeCustomId(customId)?.action === 'edit';

