// HTTP plumbing for the fake Discord: reading bodies (JSON or multipart with payload_json and
// files[n]) and writing JSON answers the way Discord does.
import type { IncomingMessage, ServerResponse } from 'node:http';
import { guessContentType } from './discord-objects.ts';

export interface RecordedFile {
  /** Multipart field name, e.g. `files[0]`. */
  field: string;
  filename: string;
  contentType: string;
  size: number;
  bytes: Buffer;
}

export interface ParsedBody {
  body: unknown;
  files: RecordedFile[];
  error?: string;
}

export function readBody(req: IncomingMessage): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

export async function parseBody(contentType: string | undefined, raw: Buffer): Promise<ParsedBody> {
  if (raw.length === 0) return { body: undefined, files: [] };
  if (contentType?.startsWith('multipart/form-data')) {
    // undici's multipart parser (global Request) handles discord.js' FormData bodies.
    const form = await new Request('http://fake.local/', { method: 'POST', headers: { 'content-type': contentType }, body: Uint8Array.from(raw) }).formData();
    const files: RecordedFile[] = [];
    const fields: Record<string, unknown> = {};
    let body: unknown;
    for (const [field, value] of form.entries()) {
      if (typeof value === 'string') {
        if (field === 'payload_json') {
          try {
            body = JSON.parse(value);
          } catch {
            return { body: value, files, error: 'payload_json is not valid JSON' };
          }
        } else {
          fields[field] = value;
        }
        continue;
      }
      const bytes = Buffer.from(await value.arrayBuffer());
      files.push({ field, filename: value.name, contentType: guessContentType(value.name, value.type || undefined), size: bytes.length, bytes });
    }
    return { body: body ?? (Object.keys(fields).length > 0 ? fields : undefined), files };
  }
  try {
    return { body: JSON.parse(raw.toString('utf8')), files: [] };
  } catch {
    return { body: raw.toString('utf8'), files: [], error: 'The request body is not valid JSON' };
  }
}

export function writeJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'Content-Type': 'application/json', 'Content-Length': String(Buffer.byteLength(text)) }).end(text);
}

export function safeDecode(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    return segment;
  }
}

/** Discord numbers every component of a stored message (the `id` field) depth-first. */
