// What commands and interaction handlers may use: the composition root (app.ts) builds one of these.
import type { Config } from './config.ts';
import type { Logger } from './log.ts';
import type { TaskRepo } from './tasks/repo.ts';
import type { TaskService } from './tasks/service.ts';
import type { Provider } from './upstream/provider.ts';

export interface AppContext {
  config: Config;
  log: Logger;
  repo: TaskRepo;
  provider: Provider;
  tasks: TaskService;
}
