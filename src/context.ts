// What commands and interaction handlers may use: the composition root (app.ts) builds one of these.
import type { Quotas } from './admin/quotas.ts';
import type { AdminRepo } from './admin/repo.ts';
import type { Config } from './config.ts';
import type { InteractionCallbacks } from './messages/callbacks.ts';
import type { Logger } from './log.ts';
import type { Maintenance } from './maintenance/service.ts';
import type { BannedWords } from './prompt/banned.ts';
import type { EditorSessions } from './editor/sessions.ts';
import type { UserSettingsRepo } from './settings/repo.ts';
import type { UsageMemory } from './tasks/accept.ts';
import type { Cancellation } from './tasks/cancel.ts';
import type { TaskRepo } from './tasks/repo.ts';
import type { TaskService } from './tasks/service.ts';
import type { PromptTranslator } from './translate/translator.ts';
import type { Accounts } from './upstream/accounts.ts';

export interface AppContext {
  config: Config;
  log: Logger;
  /** Defers interactions ("thinking…") on a lean path of its own. */
  callbacks: Pick<InteractionCallbacks, 'defer'>;
  repo: TaskRepo;
  /** The relay accounts: what they can do, and how healthy each is. */
  accounts: Accounts;
  /** Stores new jobs (in batches, each within its limits). */
  tasks: TaskService;
  /** Bans and servers' quotas (in memory), /draw-admin and its stats. */
  admin: AdminRepo;
  /** Which job limits are in force, and their use for /info and /draw-admin. */
  quotas: Quotas;
  /** What the limits counted last, for the early check (src/discord/preconditions.ts). */
  usage: UsageMemory;
  /** Per-user defaults (/settings), in memory. */
  settings: UserSettingsRepo;
  /** ❌ on a queued or running job. */
  cancellation: Cancellation;
  maintenance: Pick<Maintenance, 'purge'>;
  /** Chinese prompts to English (Baidu), before the banned-word check. */
  translator: PromptTranslator;
  bannedWords: BannedWords;
  /** Links to the Vary (Region) editor page. */
  editorSessions?: EditorSessions;
}
