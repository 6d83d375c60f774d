// Starts the test files that mostly wait (on backoff, outages, restarts) first, so their waiting overlaps with
// the rest of the suite instead of trailing it: on a fresh clone vitest has no durations cached and orders by
// file size, which put the 2.5-minute Discord outage test last and added ~70 s to every CI run.
import { BaseSequencer, type TestSpecification } from 'vitest/node';

const LONG_FIRST = [
  'e2e/lifecycle-discord-outage.test.ts',
  'e2e/lifecycle-chaos.test.ts',
  'e2e/embedded.test.ts',
  'e2e/lifecycle-hung-account.test.ts',
  'e2e/defaults.test.ts',
  'e2e/draw.test.ts',
];

export default class LongFirstSequencer extends BaseSequencer {
  override async sort(files: TestSpecification[]): Promise<TestSpecification[]> {
    const rank = (f: TestSpecification) => {
      const i = LONG_FIRST.findIndex((name) => f.moduleId.replaceAll('\\', '/').endsWith(`test/${name}`));
      return i === -1 ? LONG_FIRST.length : i;
    };
    const sorted = await super.sort(files);
    // Array#sort is stable: the rest keep vitest's own order.
    return sorted.sort((a, b) => rank(a) - rank(b));
  }
}
