// Saying something only the user sees after the reply was deferred publicly. A deferred reply's visibility is
// fixed when it is deferred, and Discord turns the *first* follow-up of a still-loading deferred reply into
// that public reply, whatever its flags. So the deferred reply gets its own content first; the follow-up
// after it is then a separate message, and ephemeral.
import { MessageFlags } from 'discord.js';

interface Deferred {
  editReply(options: { content: string; allowedMentions: { parse: [] } }): Promise<unknown>;
  followUp(options: { content: string; flags: MessageFlags.Ephemeral }): Promise<unknown>;
}

export async function followUpPrivately(interaction: Deferred, content: string, publicContent: string): Promise<void> {
  await interaction.editReply({ content: publicContent, allowedMentions: { parse: [] } });
  await interaction.followUp({ content, flags: MessageFlags.Ephemeral });
}
