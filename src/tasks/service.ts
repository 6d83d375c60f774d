// Accepting a job: the task row is written (status queued) right after the interaction is deferred, and the
// engine is woken. From here on the job is ours to finish — delivered or failed, never dropped.
import { randomBytes, randomUUID } from 'node:crypto';
import type { Task, TaskInput } from '../db/schema.ts';
import type { TaskAction } from '../upstream/actions.ts';
import type { Engine } from './engine.ts';
import type { TaskRepo } from './repo.ts';

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
}

export class TaskService {
  constructor(
    private readonly repo: TaskRepo,
    private readonly engine: Pick<Engine, 'kick'>,
    private readonly provider: string,
  ) {}

  async accept(input: AcceptInput): Promise<Task> {
    const { interaction } = input;
    const task = await this.repo.insert({
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
      provider: this.provider,
      // The relay's callback URL carries this; a callback without it is refused.
      callbackToken: randomBytes(24).toString('base64url'),
      interactionToken: interaction.token,
      tokenExpiresAt: new Date(interaction.createdTimestamp + TOKEN_LIFETIME_MS),
    });
    this.engine.kick();
    return task;
  }
}
