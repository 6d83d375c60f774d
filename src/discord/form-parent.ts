// The forms a result's button opens (Custom Zoom, Remix, ✏️ Edit, Manual Animate) name their parent task and action
// in the custom_id, like the button did. On submit the click's own checks run again: the parent may have been
// purged, or its action gone, while the form was open.
import type { ModalSubmitInteraction } from 'discord.js';
import type { AppContext } from '../context.ts';
import type { Task } from '../db/schema.ts';
import { decodeCustomId } from '../messages/custom-id.ts';
import type { InternalAction } from '../upstream/actions.ts';
import { refuse } from './preconditions.ts';

/**
 * The submitted form's parent and action, or undefined once the user was told why not (an unknown form, an
 * expired job, an action the job no longer offers).
 */
export async function formParent<A extends InternalAction>(
  ctx: AppContext,
  interaction: ModalSubmitInteraction,
  accepts: (action: string) => action is A,
): Promise<{ parent: Task; action: A } | undefined> {
  const parsed = decodeCustomId(interaction.customId);
  if (!parsed || !accepts(parsed.action)) return void (await refuse(interaction, { key: 'errors.unknownButton' }));
  const parent = await ctx.repo.get(parsed.taskId);
  if (!parent || parent.status === 'failed' || parent.status === 'cancelled') return void (await refuse(interaction, { key: 'errors.expired' }));
  if (!parent.imageUrls || !parent.actions?.includes(parsed.action)) return void (await refuse(interaction, { key: 'errors.actionUnavailable' }));
  return { parent, action: parsed.action };
}
