// Routes each interaction to its handler — after the preconditions it declares — and turns any unexpected error
// into a polite, localized reply.
import { MessageFlags, type Interaction } from 'discord.js';
import type { AppContext } from '../context.ts';
import { translator } from '../i18n.ts';
import { handleButton } from './buttons.ts';
import type { CommandRegistry } from './command.ts';
import { discordError } from '../messages/messenger.ts';
import { runPreconditions } from './preconditions.ts';
import { handleRemixModal, isRemixModal } from './remix-modal.ts';
import { handleEditModal, isEditModal } from './edit-modal.ts';
import { handleZoomModal } from './zoom-modal.ts';
import { handleAnimateModal } from './animate-modal.ts';
import { decodeCustomId } from '../messages/custom-id.ts';
import { isManualAnimate } from '../upstream/actions.ts';

export async function routeInteraction(ctx: AppContext, commands: CommandRegistry, interaction: Interaction): Promise<void> {
  if (!interaction.isChatInputCommand() && !interaction.isButton() && !interaction.isModalSubmit()) return;
  const t = translator(interaction.locale);
  try {
    if (interaction.isButton()) {
      await handleButton(ctx, interaction);
      return;
    }
    if (interaction.isModalSubmit()) {
      // The modal's custom_id names its action like a button's: Manual Animate, Edit, Remix, else Custom Zoom.
      const action = decodeCustomId(interaction.customId)?.action;
      if (action && isManualAnimate(action)) await handleAnimateModal(ctx, interaction);
      else if (isEditModal(interaction.customId)) await handleEditModal(ctx, interaction);
      else await (isRemixModal(interaction.customId) ? handleRemixModal(ctx, interaction) : handleZoomModal(ctx, interaction));
      return;
    }
    const command = commands.get(interaction.commandName);
    if (!command) {
      await interaction.reply({ content: t('errors.unknownCommand'), flags: MessageFlags.Ephemeral });
      return;
    }
    const granted = await runPreconditions(ctx, interaction, command.preconditions ?? []);
    if (granted) await command.execute(ctx, interaction, granted);
  } catch (err) {
    ctx.log.error({ err, interactionId: interaction.id }, 'interaction failed');
    // Discord has forgotten this interaction (answered too late): there is nobody left to reply to.
    if (discordError(err)?.code === 10062) return;
    const reply = { content: t('errors.internal'), flags: MessageFlags.Ephemeral } as const;
    try {
      if (interaction.deferred) await interaction.editReply({ content: reply.content });
      else if (!interaction.replied) await interaction.reply(reply);
    } catch {
      // The interaction is gone (token expired or never acknowledged): nothing more can be said on it.
    }
  }
}
