// The one place that maps UPSTREAM_PROVIDER to an adapter; everything else sees only the Provider interface.
import { ConfigError, type Config, type ProviderId } from '../config.ts';
import type { Provider } from './provider.ts';
import { SimulatorProvider } from './simulator.ts';

export interface UpstreamAccount {
  id: string;
  concurrency: number;
}

export type UpstreamFactory = (config: Config) => { provider: Provider & { notice?: string }; account: UpstreamAccount };

/** Relay adapters need their origin; most need a key too. */
export function requireRelayConfig(config: Config, needsKey = true): { baseUrl: string; apiKey: string } {
  if (!config.UPSTREAM_BASE_URL) {
    throw new ConfigError(`Configuration error: UPSTREAM_BASE_URL is not set — UPSTREAM_PROVIDER=${config.UPSTREAM_PROVIDER} needs the relay's origin (see README → Upstreams).`);
  }
  if (needsKey && !config.UPSTREAM_API_KEY) {
    throw new ConfigError(`Configuration error: UPSTREAM_API_KEY is not set — UPSTREAM_PROVIDER=${config.UPSTREAM_PROVIDER} needs your relay account's key (see README → Upstreams).`);
  }
  return { baseUrl: config.UPSTREAM_BASE_URL, apiKey: config.UPSTREAM_API_KEY ?? '' };
}

const FACTORIES: Partial<Record<ProviderId, UpstreamFactory>> = {
  // Local rendering is cheap; let a busy server see several jobs at once.
  simulator: (config) => ({ provider: new SimulatorProvider(config.SIMULATOR_STEP_MS), account: { id: 'simulator', concurrency: 10 } }),
};

export function createUpstream(config: Config): ReturnType<UpstreamFactory> {
  const factory = FACTORIES[config.UPSTREAM_PROVIDER];
  if (!factory) {
    throw new ConfigError(
      `Configuration error: UPSTREAM_PROVIDER=${config.UPSTREAM_PROVIDER} is not supported by this version yet — use UPSTREAM_PROVIDER=simulator (the default) for now.`,
    );
  }
  return factory(config);
}
