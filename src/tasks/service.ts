// Accepting a job: the task row is written (status queued) right after the interaction is deferred, and the
// engine is woken. From here on the job is ours to finish — delivered or failed, never dropped.
// The job's limits are checked again here, exactly: the row is inserted by the transaction that counts
// (src/tasks/accept.ts, which also lets the jobs of the same few milliseconds share that transaction).
import { randomBytes, randomUUID } from 'node:crypto';
import type { SpeedMode, Task, TaskInput } from '../db/schema.ts';
import type { TaskAction } from '../upstream/actions.ts';
import { JobRefused, type Acceptor, type LimitsApplied } from './accept.ts';
import { toldUploadLimit } from './images.ts';

/** Interaction tokens live 15 minutes; stop using one a little before Discord does. */
const TOKEN_LIFETIME_MS = 15 * 60_000 - 30_000;

/** A job to start: who asked (from the interaction), what, and on what. */
export interface JobRequest {
  interaction: {
    token: string;
    createdTimestamp: number;
    locale: string;
    guildId: string | null;
    channelId: string | null;
    user: { id: string };
    /** Discord's per-file upload limit where this interaction happened (unset: none told, e.g. the editor page). */
    attachmentSizeLimit?: number | null;
  };
  action: TaskAction;
  prompt: string;
  promptUpstream: string;
  parentId?: string;
  /** Attached images (image prompts, /blend, /describe). */
  input?: TaskInput;
  /** The user's speed mode (/settings); unset: the account's default. */
  mode?: SpeedMode;
}

/** 24 random bytes per token, drawn from a pool filled a few KB at a time (one system call per 170 jobs, not one each). */
const pool = { bytes: Buffer.alloc(0), at: 0 };
function callbackToken(): string {
  if (pool.at + 24 > pool.bytes.length) {
    pool.bytes = randomBytes(24 * 170);
    pool.at = 0;
  }
  const token = pool.bytes.subarray(pool.at, pool.at + 24).toString('base64url');
  pool.at += 24;
  return token;
}

export class TaskService {
  constructor(
    private readonly acceptor: Pick<Acceptor, 'accept'>,
    private readonly provider: string,
  ) {}

  /** Stores the job, or throws JobRefused when the limits it is under do not allow it. */
  async accept(input: JobRequest, applied: LimitsApplied): Promise<Task> {
    const { interaction } = input;
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
      callbackToken: callbackToken(),
      // No token (a job started from the editor page): its messages go to the channel.
      interactionToken: interaction.token || null,
      tokenExpiresAt: interaction.token ? new Date(interaction.createdTimestamp + TOKEN_LIFETIME_MS) : null,
      uploadLimit: toldUploadLimit(interaction.attachmentSizeLimit),
    };
    const stored = await this.acceptor.accept(row, applied);
    if (!stored.ok) throw new JobRefused(stored.refusal);
    return stored.task;
  }
}
