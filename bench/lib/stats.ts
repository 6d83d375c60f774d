// Small numeric helpers for the benchmark tables.

/** The p-th percentile (0–100) by nearest rank; NaN for no samples. */
export function percentile(samples: readonly number[], p: number): number {
  if (samples.length === 0) return Number.NaN;
  const sorted = [...samples].sort((a, b) => a - b);
  const rank = Math.ceil((p / 100) * sorted.length);
  return sorted[Math.min(sorted.length - 1, Math.max(0, rank - 1))]!;
}

export const median = (samples: readonly number[]) => percentile(samples, 50);
export const max = (samples: readonly number[]) => (samples.length === 0 ? Number.NaN : samples.reduce((a, b) => Math.max(a, b), -Infinity));
export const min = (samples: readonly number[]) => (samples.length === 0 ? Number.NaN : samples.reduce((a, b) => Math.min(a, b), Infinity));
export const mean = (samples: readonly number[]) => (samples.length === 0 ? Number.NaN : samples.reduce((a, b) => a + b, 0) / samples.length);

/** A number for a table cell: whole numbers as they are, others with `digits` decimals. */
export function fmt(n: number, digits = 1): string {
  if (!Number.isFinite(n)) return '—';
  return Number.isInteger(n) ? String(n) : n.toFixed(digits);
}

export const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/** Polls `check` every `everyMs` until it returns a value (not undefined) or `timeoutMs` passes. */
export async function until<T>(check: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string, everyMs = 50): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await check();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`);
    await sleep(everyMs);
  }
}
