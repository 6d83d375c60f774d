// What commands and interaction handlers may use: the composition root (app.ts) builds one of these.
import type { AdminRepo } from './admin/repo.ts';
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { Maintenance } from './maintenance/service.ts';
import type { BannedWords } from './prompt/banned.ts';
import type { TaskRepo } from './tasks/repo.ts';
import type { TaskService } from './tasks/service.ts';
import type { PromptTranslator } from './translate/translator.ts';
import type { Provider } from './upstream/provider.ts';

export interface AppContext {
  config: Config;
  log: Logger;
  repo: TaskRepo;
  provider: Provider;
  tasks: TaskService;
  /** Bans and quotas (/draw-admin, and the job guard). */
  admin: AdminRepo;
  maintenance: Pick<Maintenance, 'purge'>;
  /** Chinese prompts to English (Baidu), before the banned-word check. */
  translator: PromptTranslator;
  bannedWords: BannedWords;
}
