// Routes each interaction to its handler and turns any unexpected error into a polite, localized reply.
import { MessageFlags, type Interaction } from 'discord.js';
import { commands } from '../../commands/index.ts';
import type { AppContext } from '../context.ts';
import { translator } from '../i18n.ts';
import { handleButton } from './buttons.ts';

export async function routeInteraction(ctx: AppContext, interaction: Interaction): Promise<void> {
  if (!interaction.isChatInputCommand() && !interaction.isButton()) return;
  const t = translator(interaction.locale);
  try {
    if (interaction.isButton()) {
      await handleButton(ctx, interaction);
      return;
    }
    const command = commands.get(interaction.commandName);
    if (!command) {
      await interaction.reply({ content: t('errors.unknownCommand'), flags: MessageFlags.Ephemeral });
      return;
    }
    await command.execute(ctx, interaction);
  } catch (err) {
    ctx.log.error({ err, interactionId: interaction.id }, 'interaction failed');
    const reply = { content: t('errors.internal'), flags: MessageFlags.Ephemeral } as const;
    try {
      if (interaction.deferred) await interaction.editReply({ content: reply.content });
      else if (!interaction.replied) await interaction.reply(reply);
    } catch {
      // The interaction is gone (token expired or never acknowledged): nothing more can be said on it.
    }
  }
}
