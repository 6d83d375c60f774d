// Each user's defaults for new jobs (/settings): a speed mode, an aspect ratio, a model version and remix. One row per user, over
// every server; no row means Midjourney's own defaults. Read on every /draw, so kept in memory: loaded at
// start-up (one row per user who ever used /settings), changed here as they are written, and on the other
// instances by a PostgreSQL notification sent in the writing transaction (src/db/notify.ts).
import { sql } from 'drizzle-orm';
import type { Db } from '../db/client.ts';
import type { Notifications } from '../db/notify.ts';
import { userSettings, type SpeedMode } from '../db/schema.ts';
import type { Logger } from '../log.ts';

export interface Defaults {
  /** null: the relay account's default mode. */
  mode: SpeedMode | null;
  /** `16:9`; null: no `--ar` is added. */
  aspectRatio: string | null;
  /** `8.1`, `7` or `niji 7` (see settings/apply.ts); null: the relay's default version. */
  version: string | null;
  /** Remix: variations and the like ask for the prompt again (false: the parent's prompt is reused). */
  remix: boolean;
}

const NONE: Defaults = { mode: null, aspectRatio: null, version: null, remix: false };
const CHANNEL = 'mj_settings';

export class UserSettingsRepo {
  private byUser = new Map<string, Defaults>();

  constructor(private readonly db: Db) {}

  /** Loads every user's defaults; with `notifications`, keeps them in step with other instances. */
  async start(notifications?: Notifications, log?: Logger): Promise<void> {
    await this.load();
    await notifications?.listen(
      CHANNEL,
      (payload) => {
        const { userId, ...defaults } = JSON.parse(payload) as Defaults & { userId: string };
        this.remember(userId, defaults);
      },
      async () => {
        await this.load().catch((err: unknown) => log?.error({ err }, 'could not reload user settings'));
      },
    );
  }

  async load(): Promise<void> {
    const rows = await this.db
      .select({ userId: userSettings.userId, mode: userSettings.mode, aspectRatio: userSettings.aspectRatio, version: userSettings.version, remix: userSettings.remix })
      .from(userSettings);
    this.byUser = new Map();
    for (const { userId, ...defaults } of rows) this.remember(userId, defaults);
  }

  get(userId: string): Defaults {
    return this.byUser.get(userId) ?? NONE;
  }

  /** Changes what `change` names (null: back to the default), keeps the rest, and returns the result. */
  async update(userId: string, change: Partial<Defaults>): Promise<Defaults> {
    const saved = await this.db.transaction(async (tx) => {
      const [row] = await tx
        .insert(userSettings)
        .values({ userId, mode: change.mode ?? null, aspectRatio: change.aspectRatio ?? null, version: change.version ?? null, remix: change.remix ?? false })
        .onConflictDoUpdate({ target: userSettings.userId, set: { ...change, updatedAt: sql`now()` } })
        .returning({ mode: userSettings.mode, aspectRatio: userSettings.aspectRatio, version: userSettings.version, remix: userSettings.remix });
      await tx.execute(sql`select pg_notify(${CHANNEL}, ${JSON.stringify({ userId, ...row! })})`);
      return row!;
    });
    this.remember(userId, saved);
    return saved;
  }

  /** Only users with something set take memory. */
  private remember(userId: string, defaults: Defaults): void {
    // A notification from an instance that predates `version` has none: the relay's default.
    const version = defaults.version ?? null;
    const remix = defaults.remix ?? false;
    if (defaults.mode === null && defaults.aspectRatio === null && version === null && !remix) this.byUser.delete(userId);
    else this.byUser.set(userId, { mode: defaults.mode, aspectRatio: defaults.aspectRatio, version, remix });
  }
}
