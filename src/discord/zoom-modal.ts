// Custom Zoom asks how far to zoom out before the job starts, as Midjourney's own modal does. Only the factor
// is asked for (1–2, Midjourney's range): the prose stays the parent's, so nothing new bypasses the prompt
// checks and translation /draw applies. The factor travels as `--zoom N` in the child task's upstream prompt.
import { MessageFlags, ComponentType, TextInputStyle, type APIModalInteractionResponseCallbackData, type ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { translator, type Translate } from '../i18n.ts';
import { encodeCustomId } from '../messages/custom-id.ts';
import { formParent } from './form-parent.ts';
import { startJob } from './jobs.ts';
import { FOLLOW_UP_JOB, runPreconditions } from './preconditions.ts';

const FACTOR_INPUT = 'zoom';
const DEFAULT_FACTOR = '2';

/** The modal a Custom Zoom click answers with; its custom_id names the parent task like a button's. */
export function zoomModal(parent: Task, t: Translate): APIModalInteractionResponseCallbackData {
  return {
    custom_id: encodeCustomId(parent.id, 'zoom:custom'),
    title: t('buttons.zoomCustom'),
    components: [
      {
        type: ComponentType.ActionRow,
        components: [
          {
            type: ComponentType.TextInput,
            custom_id: FACTOR_INPUT,
            label: `${t('actions.zoom')} (1–2)`,
            style: TextInputStyle.Short,
            min_length: 1,
            max_length: 4,
            required: true,
            value: DEFAULT_FACTOR,
          },
        ],
      },
    ],
  };
}

/** "1.5" → 1.5; anything unreadable is Midjourney's default, anything out of range is brought into it. */
/** The factor typed in the modal (a decimal comma allowed), rounded to 1/100; undefined unless a number from 1 to 2. */
export function zoomFactor(raw: string): number | undefined {
  const text = raw.trim().replace(',', '.');
  const n = Number(text);
  if (text === '' || !Number.isFinite(n) || n < 1 || n > 2) return undefined;
  return Math.round(n * 100) / 100;
}

/** The parent's upstream prompt with its `--zoom` (if any) replaced by the chosen factor. */
export function zoomPrompt(prompt: string, factor: number): string {
  return `${prompt.replace(/\s*--zoom\s+\S+/g, '').trim()} --zoom ${factor}`;
}

export async function handleZoomModal(ctx: AppContext, interaction: ModalSubmitInteraction): Promise<void> {
  const t = translator(interaction.locale);
  const form = await formParent(ctx, interaction, (a): a is 'zoom:custom' => a === 'zoom:custom');
  if (!form) return;
  const { parent } = form;
  // The user may have been banned, or run out of quota, while the modal was open.
  const granted = await runPreconditions(ctx, interaction, FOLLOW_UP_JOB);
  if (!granted) return;

  const typed = interaction.fields.getTextInputValue(FACTOR_INPUT);
  const factor = zoomFactor(typed);
  // Nothing starts on a factor Midjourney would refuse: the user hears why, privately, and can click again.
  if (factor === undefined) return void (await interaction.reply({ content: t('params:errors.zoomFactor', { value: typed.slice(0, 20) }), flags: MessageFlags.Ephemeral }));
  await ctx.callbacks.defer(interaction);
  await startJob(ctx, interaction, granted, { action: 'zoom:custom', parentId: parent.id, prompt: parent.prompt, promptUpstream: zoomPrompt(parent.promptUpstream, factor) });
}
