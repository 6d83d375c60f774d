// Links to the Vary (Region) editor: an unguessable token per click of 🖌️, stored (hashed) in the database so
// any instance can serve the page and a restart loses nothing. Used once, valid as long as the interaction.
import { createHash, randomBytes } from 'node:crypto';
import { and, eq, gt, isNull, lt } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { editorSessions, type EditorSession } from '../db/schema.ts';

/** As long as the interaction that asked for it (Discord's 15 minutes). */
export const EDITOR_LINK_LIFETIME_MS = 15 * 60_000;

const hash = (token: string) => createHash('sha256').update(token).digest('base64url');
/** 32 random bytes, base64url: what a link carries. */
export const TOKEN_PATTERN = /^[A-Za-z0-9_-]{43}$/;

export type Lookup = { ok: true; session: EditorSession } | { ok: false; reason: 'unknown' | 'used' | 'expired' };

export class EditorSessions {
  constructor(private readonly db: Db) {}

  /** A new link's token for this user and job. */
  async create(input: { taskId: string; userId: string; guildId: string | null; channelId: string; locale: string }, now = new Date()): Promise<string> {
    const token = randomBytes(32).toString('base64url');
    // Links a day past their expiry are of no use to anyone: cleared as new ones are made.
    await this.db.delete(editorSessions).where(lt(editorSessions.expiresAt, new Date(now.getTime() - 86_400_000)));
    await this.db.insert(editorSessions).values({ tokenHash: hash(token), ...input, expiresAt: new Date(now.getTime() + EDITOR_LINK_LIFETIME_MS) });
    return token;
  }

  /** The session a link names, if it may still be used. */
  async find(token: string, now = new Date()): Promise<Lookup> {
    if (!TOKEN_PATTERN.test(token)) return { ok: false, reason: 'unknown' };
    const [session] = await this.db.select().from(editorSessions).where(eq(editorSessions.tokenHash, hash(token))).limit(1);
    if (!session) return { ok: false, reason: 'unknown' };
    if (session.usedAt) return { ok: false, reason: 'used' };
    if (session.expiresAt.getTime() <= now.getTime()) return { ok: false, reason: 'expired' };
    return { ok: true, session };
  }

  /** Marks the link used, atomically: of two submissions racing, exactly one gets true. */
  async use(token: string, now = new Date()): Promise<boolean> {
    const rows = await this.db
      .update(editorSessions)
      .set({ usedAt: now })
      .where(and(eq(editorSessions.tokenHash, hash(token)), isNull(editorSessions.usedAt), gt(editorSessions.expiresAt, now)))
      .returning({ taskId: editorSessions.taskId });
    return rows.length === 1;
  }

  /** Gives the link back when nothing was started with it (a limit refused the job), so the user can try again. */
  async release(token: string): Promise<void> {
    await this.db.update(editorSessions).set({ usedAt: null }).where(eq(editorSessions.tokenHash, hash(token)));
  }
}
