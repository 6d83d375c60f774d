// Waiting for something with a deadline, without leaving a timer behind.

/** Resolves with `true` if `work` fulfils within `ms`, `false` if it rejects or the time runs out first. */
export async function fulfilsWithin(work: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => (timer = setTimeout(() => resolve(false), ms)));
  try {
    return await Promise.race([work.then(() => true, () => false), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
