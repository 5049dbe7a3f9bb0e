/**
 * Queues read-modify-write work on the same key inside this process. Correctness never
 * depends on it — every write is conditional on the version it read — but without it N
 * concurrent writers of one hot item would each lose the race and retry, O(N²) attempts
 * (200 concurrent AdjustStock with request_ids on one sku). With it they take turns and
 * the condition only fails against writers in other processes.
 */
export function createKeyLock(): <T>(key: string, work: () => Promise<T>) => Promise<T> {
  const tails = new Map<string, Promise<unknown>>();
  return async <T>(key: string, work: () => Promise<T>): Promise<T> => {
    const previous = tails.get(key) ?? Promise.resolve();
    const run = previous.then(work, work);
    const tail = run.then(
      () => undefined,
      () => undefined,
    );
    tails.set(key, tail);
    try {
      return await run;
    } finally {
      // Last one out removes the entry, so the map holds only keys with work queued.
      if (tails.get(key) === tail) tails.delete(key);
    }
  };
}
