// The one place that maps UPSTREAM_PROVIDER to an adapter; everything else sees only the Provider interface.
import { ConfigError, type Config, type ProviderId } from '../config.ts';
import type { RelayConnection } from './http.ts';
import type { Provider } from './provider.ts';
import { Accounts, accountIds, accountSpecs, type Account } from './accounts.ts';
import { SimulatorProvider } from './simulator.ts';
import { AceDataProvider } from './acedata.ts';
import { TtApiProvider } from './ttapi.ts';
import { MidjourneyProxyProvider } from './midjourney-proxy.ts';
import { MidjourneyNodeApiProvider } from './midjourney-node-api.ts';
import { ImagineApiProvider } from './imagineapi.ts';
import { PiapiProvider } from './piapi.ts';
import { LegnextProvider } from './legnext.ts';

/** What an adapter is built from: one account's relay origin and key. */
export interface RelaySpec {
  provider: ProviderId;
  baseUrl?: string;
  apiKey?: string;
  timeoutMs?: number;
}

type Built = { provider: Provider & { notice?: string }; concurrency: number };
export type UpstreamFactory = (spec: RelaySpec, config: Config) => Built;

/** Relay adapters need their origin; most need a key too. */
export function requireRelayConfig(spec: RelaySpec, needsKey = true): RelayConnection {
  if (!spec.baseUrl) {
    throw new ConfigError(`Configuration error: UPSTREAM_BASE_URL is not set — UPSTREAM_PROVIDER=${spec.provider} needs the relay's origin (see README → Upstreams).`);
  }
  if (needsKey && !spec.apiKey) {
    throw new ConfigError(`Configuration error: UPSTREAM_API_KEY is not set — UPSTREAM_PROVIDER=${spec.provider} needs your relay account's key (see README → Upstreams).`);
  }
  return { baseUrl: spec.baseUrl, apiKey: spec.apiKey ?? '', timeoutMs: spec.timeoutMs };
}

// Every provider id has a factory: the type makes a missing one a compile error. The concurrency is each
// relay's sensible default; UPSTREAM_ACCOUNTS may set its own per account.
const FACTORIES: Record<ProviderId, UpstreamFactory> = {
  // Local rendering is cheap; let a busy server see several jobs at once.
  simulator: (_spec, config) => ({ provider: new SimulatorProvider(config.SIMULATOR_STEP_MS), concurrency: 10 }),
  // AceData's concurrency depends on the plan; a few at a time, the rest wait in our queue.
  acedata: (spec) => ({ provider: AceDataProvider.create(requireRelayConfig(spec)), concurrency: 5 }),
  // TTApi runs at most 10 jobs in progress per account.
  ttapi: (spec, config) => ({ provider: TtApiProvider.create(requireRelayConfig(spec), { videoResolution: config.TTAPI_VIDEO_RESOLUTION }), concurrency: 10 }),
  // One Discord account runs 3 fast jobs at once; the proxy queues a few more itself (code 22).
  'midjourney-proxy': (spec) => ({ provider: MidjourneyProxyProvider.create(requireRelayConfig(spec)), concurrency: 5 }),
  // Its queue is newest-first and leaks slots when overfilled: hand it few jobs at a time. No API key.
  'midjourney-node-api': (spec) => ({ provider: MidjourneyNodeApiProvider.create(requireRelayConfig(spec, false)), concurrency: 3 }),
  // ImagineAPI queues on its side; a few at a time keeps our own queue order meaningful.
  imagineapi: (spec) => ({ provider: ImagineApiProvider.create(requireRelayConfig(spec)), concurrency: 3 }),
  // PiAPI's plans allow several Midjourney jobs at once; extra ones wait in its queue (status staged).
  piapi: (spec) => ({ provider: PiapiProvider.create(requireRelayConfig(spec)), concurrency: 3 }),
  // LegNext's skill docs name 6 jobs at once per account, more waiting in its queue (pending/staged): stay under.
  legnext: (spec) => ({ provider: LegnextProvider.create(requireRelayConfig(spec)), concurrency: 5 }),
};

/** One adapter, for the single-account variables (tests and tools). */
export function createUpstream(config: Config): Built {
  const spec = { provider: config.UPSTREAM_PROVIDER, baseUrl: config.UPSTREAM_BASE_URL, apiKey: config.UPSTREAM_API_KEY, timeoutMs: config.UPSTREAM_TIMEOUT_MS };
  return FACTORIES[config.UPSTREAM_PROVIDER](spec, config);
}

/** Every configured relay account, each with its own adapter. */
export function createAccounts(config: Config): { accounts: Accounts; notices: string[] } {
  const specs = accountSpecs(config);
  const ids = accountIds(specs);
  const notices = new Set<string>();
  const list: Account[] = specs.map((spec, i) => {
    let built: Built;
    try {
      built = FACTORIES[spec.provider]({ ...spec, timeoutMs: config.UPSTREAM_TIMEOUT_MS }, config);
    } catch (err) {
      // In a list, name the account whose entry is incomplete.
      if (err instanceof ConfigError && config.UPSTREAM_ACCOUNTS) {
        throw new ConfigError(`Configuration error: UPSTREAM_ACCOUNTS entry "${ids[i]}" (${spec.provider}) needs ${/UPSTREAM_BASE_URL/.test(err.message) ? 'baseUrl' : 'apiKey'}.`);
      }
      throw err;
    }
    if (built.provider.notice) notices.add(built.provider.notice);
    return { id: ids[i]!, provider: built.provider, concurrency: spec.concurrency ?? built.concurrency, weight: spec.weight, ...(spec.modes && { modes: spec.modes }) };
  });
  return { accounts: new Accounts(list), notices: [...notices] };
}
