// The one place that maps UPSTREAM_PROVIDER to an adapter; everything else sees only the Provider interface.
import { ConfigError, type Config } from '../config.ts';
import type { Provider } from './provider.ts';
import { SimulatorProvider } from './simulator.ts';

export interface UpstreamAccount {
  id: string;
  concurrency: number;
}

export function createUpstream(config: Config): { provider: Provider & { notice?: string }; account: UpstreamAccount } {
  switch (config.UPSTREAM_PROVIDER) {
    case 'simulator':
      // Local rendering is cheap; let a busy server see several jobs at once.
      return { provider: new SimulatorProvider(config.SIMULATOR_STEP_MS), account: { id: 'simulator', concurrency: 10 } };
    default:
      throw new ConfigError(
        `Configuration error: UPSTREAM_PROVIDER=${config.UPSTREAM_PROVIDER} is not supported by this version yet — use UPSTREAM_PROVIDER=simulator (the default) for now.`,
      );
  }
}
