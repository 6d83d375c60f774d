// Reading a request body with a size cap, for every route that takes one (relay callbacks, the editor page).
import type { IncomingMessage } from 'node:http';

/** The whole body, or undefined once it grows past `limit` bytes (the rest is not read into memory). */
export async function readBody(req: IncomingMessage, limit: number): Promise<Buffer | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > limit) return undefined;
    chunks.push(chunk as Buffer);
  }
  return Buffer.concat(chunks);
}
