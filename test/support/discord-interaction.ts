// The test's handle on one user interaction: what the fake dispatched and what the bot answered.
import type { FakeAttachment, FakeUser, MessageShape } from './discord-objects.ts';
import type { RecordedFile } from './discord-http.ts';
import type { SessionRef } from './discord-gateway.ts';

export interface CallbackRecord {
  at: number;
  type: number;
  data: Record<string, unknown> | undefined;
  files: RecordedFile[];
}

export interface SeenAttachment extends FakeAttachment {
  bytes: Buffer;
}

/** A message state as a user saw it, with the uploaded bytes of its attachments. */
export type SeenMessage = MessageShape<SeenAttachment>;

export interface EditRecord {
  at: number;
  messageId: string;
  payload: Record<string, unknown>;
  files: RecordedFile[];
  /** The message after the edit. */
  message: SeenMessage;
}

export interface MessageEvent {
  seq: number;
  at: number;
  kind: 'create' | 'edit' | 'delete';
  messageId: string;
  /** The interaction whose token (or callback) made the change. */
  viaInteraction?: string;
  message: SeenMessage;
}

/** Everything the fake knows about one dispatched interaction. */
export interface InteractionState {
  id: string;
  token: string;
  type: number;
  payload: Record<string, unknown>;
  createdAt: number;
  acknowledged: boolean;
  expired: boolean;
  guildId: string;
  channelId: string;
  commandName?: string;
  user: FakeUser;
  /** The message a component/modal interaction came from (type 6/7 edit it). */
  sourceMessageId?: string;
  originalMessageId?: string;
  /** Messages created through this interaction's callback or token, in order. */
  messageIds: string[];
  callbacks: CallbackRecord[];
  edits: EditRecord[];
  /** The gateway sessions INTERACTION_CREATE went to (by the guild's shard); empty: no session serves it. */
  deliveredTo: SessionRef[];
}

export interface InteractionHost {
  waitUntil<T>(check: () => T | undefined, timeoutMs: number | undefined, describe: () => string): Promise<T>;
  events(): MessageEvent[];
  current(id: string): SeenMessage | undefined;
}

/** A user's interaction as dispatched by the fake, and everything the bot did with it. */
export class FakeInteraction {
  constructor(
    private readonly host: InteractionHost,
    private readonly state: InteractionState,
  ) {}

  get id(): string {
    return this.state.id;
  }

  get token(): string {
    return this.state.token;
  }

  /** Interaction type (2 command, 3 component, 5 modal submit). */
  get type(): number {
    return this.state.type;
  }

  /** The INTERACTION_CREATE payload sent to the bot. */
  get payload(): Record<string, unknown> {
    return structuredClone(this.state.payload);
  }

  /** The gateway sessions (and their shards) the interaction was dispatched to; empty when none served its shard. */
  get deliveredTo(): SessionRef[] {
    return structuredClone(this.state.deliveredTo);
  }

  get acknowledged(): boolean {
    return this.state.acknowledged;
  }

  /** Accepted callbacks (at most one: Discord refuses a second with 40060). */
  get callbacks(): CallbackRecord[] {
    return [...this.state.callbacks];
  }

  async waitForCallback(timeoutMs?: number): Promise<CallbackRecord> {
    return this.host.waitUntil(() => this.state.callbacks[0], timeoutMs, () => `a callback for interaction ${this.id}`);
  }

  /**
   * The first state of this interaction's messages (original reply, follow-ups, or the component's
   * message once updated through it) that satisfies `predicate`, whether already seen or upcoming.
   */
  async waitForMessage(predicate: (message: SeenMessage) => boolean = () => true, timeoutMs?: number): Promise<SeenMessage> {
    return this.host.waitUntil(
      () => this.ownEvents().find((e) => e.kind !== 'delete' && predicate(e.message))?.message,
      timeoutMs,
      () => `a message of interaction ${this.id} matching ${predicate.toString()}; seen: ${JSON.stringify(this.ownEvents().map((e) => ({ kind: e.kind, content: e.message.content, flags: e.message.flags })))}`,
    );
  }

  /** Current state of every message created through this interaction (deleted ones excluded). */
  messages(): SeenMessage[] {
    return this.state.messageIds.map((id) => this.host.current(id)).filter((m): m is SeenMessage => m !== undefined);
  }

  /** Current state of the original response (for components after type 6/7: the clicked message). */
  original(): SeenMessage | undefined {
    return this.state.originalMessageId ? this.host.current(this.state.originalMessageId) : undefined;
  }

  /** Every accepted edit of the original response, in order. */
  edits(): EditRecord[] {
    return [...this.state.edits];
  }

  /** Makes the token invalid, as after 15 minutes: webhook calls get 401 / 50027. */
  expireToken(): void {
    this.state.expired = true;
  }

  private ownEvents(): MessageEvent[] {
    return this.host.events().filter((e) => e.viaInteraction === this.state.id || this.state.messageIds.includes(e.messageId));
  }
}
