// The floor for the delivery overhead: what moving a result costs with nothing but the transfer — a plain
// download of the relay's image and a plain multipart upload of the same bytes to the fake Discord (a channel
// message with the bot token), with no database, queue or rendering in between.

export interface FloorTarget {
  imageUrl: string;
  apiUrl: string;
  token: string;
  channelId: string;
}

/** Downloads the image and uploads it; resolves the moment the download started (the upload's arrival is read at the fake). */
export async function downloadAndUpload(target: FloorTarget, label: string): Promise<number> {
  const started = Date.now();
  const res = await fetch(target.imageUrl);
  const bytes = new Uint8Array(await res.arrayBuffer());
  const form = new FormData();
  form.append('payload_json', JSON.stringify({ content: `**${label}**`, attachments: [{ id: '0', filename: 'grid_floor.png' }] }));
  form.append('files[0]', new Blob([bytes], { type: 'image/png' }), 'grid_floor.png');
  const upload = await fetch(`${target.apiUrl}/v10/channels/${target.channelId}/messages`, {
    method: 'POST',
    headers: { authorization: `Bot ${target.token}` },
    body: form,
  });
  if (!upload.ok) throw new Error(`floor upload failed: HTTP ${upload.status} ${await upload.text()}`);
  return started;
}
