// The one place that maps UPSTREAM_PROVIDER to an adapter; everything else sees only the Provider interface.
import { ConfigError, type Config, type ProviderId } from '../config.ts';
import type { Provider } from './provider.ts';
import { SimulatorProvider } from './simulator.ts';
import { AceDataProvider } from './acedata.ts';
import { TtApiProvider } from './ttapi.ts';
import { MidjourneyProxyProvider } from './midjourney-proxy.ts';
import { MidjourneyNodeApiProvider } from './midjourney-node-api.ts';
import { ImagineApiProvider } from './imagineapi.ts';
import { PiapiProvider } from './piapi.ts';

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

// Every provider id has a factory: the type makes a missing one a compile error.
const FACTORIES: Record<ProviderId, UpstreamFactory> = {
  // Local rendering is cheap; let a busy server see several jobs at once.
  simulator: (config) => ({ provider: new SimulatorProvider(config.SIMULATOR_STEP_MS), account: { id: 'simulator', concurrency: 10 } }),
  // AceData's concurrency depends on the plan; a few at a time, the rest wait in our queue.
  acedata: (config) => ({ provider: AceDataProvider.create(requireRelayConfig(config)), account: { id: 'acedata', concurrency: 5 } }),
  // TTApi runs at most 10 jobs in progress per account.
  ttapi: (config) => ({ provider: TtApiProvider.create(requireRelayConfig(config)), account: { id: 'ttapi', concurrency: 10 } }),
  // One Discord account runs 3 fast jobs at once; the proxy queues a few more itself (code 22).
  'midjourney-proxy': (config) => ({ provider: MidjourneyProxyProvider.create(requireRelayConfig(config)), account: { id: 'midjourney-proxy', concurrency: 5 } }),
  // Its queue is newest-first and leaks slots when overfilled: hand it few jobs at a time. No API key.
  'midjourney-node-api': (config) => ({ provider: MidjourneyNodeApiProvider.create(requireRelayConfig(config, false)), account: { id: 'midjourney-node-api', concurrency: 3 } }),
  // ImagineAPI queues on its side; a few at a time keeps our own queue order meaningful.
  imagineapi: (config) => ({ provider: ImagineApiProvider.create(requireRelayConfig(config)), account: { id: 'imagineapi', concurrency: 3 } }),
  // PiAPI's plans allow several Midjourney jobs at once; extra ones wait in its queue (status staged).
  piapi: (config) => ({ provider: PiapiProvider.create(requireRelayConfig(config)), account: { id: 'piapi', concurrency: 3 } }),
};

export function createUpstream(config: Config): ReturnType<UpstreamFactory> {
  return FACTORIES[config.UPSTREAM_PROVIDER](config);
}
