// Each user's defaults for new jobs (/settings): a speed mode and an aspect ratio. One row per user, over
// every server; no row means Midjourney's own defaults.
import { eq, sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import { userSettings, type SpeedMode } from '../db/schema.ts';

export interface Defaults {
  /** null: the relay account's default mode. */
  mode: SpeedMode | null;
  /** `16:9`; null: no `--ar` is added. */
  aspectRatio: string | null;
}

const NONE: Defaults = { mode: null, aspectRatio: null };

export class UserSettingsRepo {
  constructor(private readonly db: Db) {}

  async get(userId: string): Promise<Defaults> {
    const [row] = await this.db
      .select({ mode: userSettings.mode, aspectRatio: userSettings.aspectRatio })
      .from(userSettings)
      .where(eq(userSettings.userId, userId));
    return row ?? NONE;
  }

  /** Changes what `change` names (null: back to the default), keeps the rest, and returns the result. */
  async update(userId: string, change: Partial<Defaults>): Promise<Defaults> {
    const [row] = await this.db
      .insert(userSettings)
      .values({ userId, mode: change.mode ?? null, aspectRatio: change.aspectRatio ?? null })
      .onConflictDoUpdate({ target: userSettings.userId, set: { ...change, updatedAt: sql`now()` } })
      .returning({ mode: userSettings.mode, aspectRatio: userSettings.aspectRatio });
    return row!;
  }
}
