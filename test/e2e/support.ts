// Small readers over what the fake Discord saw, shared by end-to-end tests.
import sharp from 'sharp';
import type { SeenMessage } from '../support/fake-discord.ts';

type Button = { type: number; custom_id?: string; label?: string; emoji?: { name?: string } };

/** Button faces row by row: the label, or the emoji when there is no label. */
export function buttonFaces(message: SeenMessage): string[][] {
  return (message.components as Array<{ components: Button[] }>).map((row) => row.components.map((b) => b.label ?? b.emoji?.name ?? '?'));
}

export function customIdOf(message: SeenMessage, face: string): string {
  for (const row of message.components as Array<{ components: Button[] }>) {
    for (const b of row.components) if ((b.label ?? b.emoji?.name) === face && b.custom_id) return b.custom_id;
  }
  throw new Error(`no button "${face}" on message: ${JSON.stringify(buttonFaces(message))}`);
}

/** A message is final once it carries buttons or says the job failed. */
export const isFinal = (m: SeenMessage) => m.components.length > 0 || m.content.startsWith('❌');

export async function imageInfo(message: SeenMessage) {
  const attachment = message.attachments[0];
  if (!attachment) throw new Error('message has no attachment');
  const meta = await sharp(attachment.bytes).metadata();
  return { filename: attachment.filename, format: meta.format, width: meta.width!, height: meta.height!, bytes: attachment.bytes };
}
