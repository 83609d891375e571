import { expect, vi } from 'vitest';
import { type Api, show } from './http.ts';

/**
 * Waits until the API reads DynamoDB again after a black hole; answers how many reads it refused 503 first.
 *
 * The fault proxy's black hole models a hung peer: every connection open when it starts, idle keep-alive ones
 * included, stays silent for ever. The functions' pools still hold such connections after `restore()`, and each
 * one costs a call its 2 s attempt timeout before it is discarded (two, and a 503, when the SDK's retry quota is
 * spent). Locally one process holds the pool of every concurrent invocation, so there are more of them than one
 * Lambda instance would have. Several reads at once drain them faster; the loop is bounded by `timeout`.
 */
export const untilApiReads = async (api: Api, timeout = 60_000): Promise<number> => {
  let refused = 0;
  await vi.waitFor(
    async () => {
      const replies = await Promise.all(Array.from({ length: 4 }, () => show(api, 'number=1')));
      refused += replies.filter((reply) => reply.status === 503).length;
      expect(replies.map((reply) => reply.status).filter((status) => status !== 200 && status !== 404)).toEqual([]);
    },
    { timeout, interval: 100 },
  );
  return refused;
};
