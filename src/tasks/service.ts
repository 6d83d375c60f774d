// Accepting a job: the task row is written (status queued) right after the interaction is deferred, and the
// engine is woken. From here on the job is ours to finish — delivered or failed, never dropped.
// The job limits are checked again here, exactly: the row is inserted in the transaction that counts.
import { randomBytes, randomUUID } from 'node:crypto';
import { sql } from 'drizzle-orm';
import { JobRefused, type JobKind, type Quotas } from '../admin/quotas.ts';
import { tasks, type SpeedMode, type Task, type TaskInput } from '../db/schema.ts';
import type { TaskAction } from '../upstream/actions.ts';
import type { Engine } from './engine.ts';

/** Interaction tokens live 15 minutes; stop using one a little before Discord does. */
const TOKEN_LIFETIME_MS = 15 * 60_000 - 30_000;

export interface AcceptInput {
  interaction: { token: string; createdTimestamp: number; locale: string; guildId: string | null; channelId: string | null; user: { id: string } };
  action: TaskAction;
  prompt: string;
  promptUpstream: string;
  parentId?: string;
  /** Attached images (image prompts, /blend, /describe). */
  input?: TaskInput;
  /** The user's speed mode (/settings); unset: the account's default. */
  mode?: SpeedMode;
}

/** Jobs that start something new, under the daily quotas; every other action follows up on a result. */
const NEW_JOBS: ReadonlySet<string> = new Set(['imagine', 'blend', 'describe']);

export class TaskService {
  constructor(
    private readonly quotas: Pick<Quotas, 'insertWithinLimits'>,
    private readonly engine: Pick<Engine, 'kick'>,
    private readonly provider: string,
  ) {}

  /** Stores the job, or throws JobRefused when the limits do not allow it (see acceptJob in src/admin/access.ts). */
  async accept(input: AcceptInput): Promise<Task> {
    const { interaction } = input;
    const kind: JobKind = NEW_JOBS.has(input.action) ? 'draw' : 'button';
    const row = {
      id: randomUUID(),
      parentId: input.parentId ?? null,
      guildId: interaction.guildId,
      channelId: interaction.channelId ?? '',
      userId: interaction.user.id,
      locale: interaction.locale,
      action: input.action,
      prompt: input.prompt,
      promptUpstream: input.promptUpstream,
      input: input.input ?? null,
      mode: input.mode ?? null,
      provider: this.provider,
      // The relay's callback URL carries this; a callback without it is refused.
      callbackToken: randomBytes(24).toString('base64url'),
      interactionToken: interaction.token,
      tokenExpiresAt: new Date(interaction.createdTimestamp + TOKEN_LIFETIME_MS),
      // Queue order is creation order: stamp the row when it is written, after the limit locks were waited for,
      // not when the transaction began (now()), or a job could be dated before one the dispatcher already saw.
      createdAt: sql`clock_timestamp()`,
    };
    const who = { guildId: interaction.guildId, userId: interaction.user.id };
    const stored = await this.quotas.insertWithinLimits(who, kind, async (tx) => (await tx.insert(tasks).values(row).returning())[0]!);
    if (!stored.ok) throw new JobRefused(stored.refusal);
    this.engine.kick();
    return stored.value;
  }
}
