import { defineConfig } from 'vitest/config';
import LongFirstSequencer from './test/support/sequencer.ts';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    // End-to-end files start real bot processes; two cores cannot run many at once without timing noise.
    pool: 'forks',
    // Three: the long outage and chaos tests mostly wait (on backoff, on timers), so a third file keeps the cores busy.
    poolOptions: { forks: { maxForks: 3, minForks: 1 } },
    sequence: { sequencer: LongFirstSequencer },
    testTimeout: 30_000,
    hookTimeout: 60_000,
    teardownTimeout: 30_000,
  },
});
