// The outbox's backoff and the stall sweep's pace: the numbers the README promises.
import { describe, expect, it } from 'vitest';
import { sweepIntervalMs } from '../../src/maintenance/service.ts';
import { backoffMs } from '../../src/tasks/delivery.ts';

describe('outbox backoff', () => {
  it('doubles from 1 s to a 30 s cap, with ±20 % jitter', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 12].map((n) => backoffMs(n, () => 0.5))).toEqual([1_000, 2_000, 4_000, 8_000, 16_000, 30_000, 30_000, 30_000]);
    expect(backoffMs(1, () => 0)).toBe(800);
    expect(backoffMs(6, () => 0.999_999)).toBe(36_000);
  });
});

describe('stall sweep', () => {
  it('runs every quarter of JOB_TIMEOUT_MINUTES, at most a minute and at least a second apart', () => {
    expect(sweepIntervalMs(10)).toBe(60_000);
    expect(sweepIntervalMs(2)).toBe(30_000);
    expect(sweepIntervalMs(0.1)).toBe(1_500);
    expect(sweepIntervalMs(0.05)).toBe(1_000);
  });
});
