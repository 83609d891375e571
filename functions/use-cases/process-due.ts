import { logger, metrics } from '../adapters/observability.ts';
import type { Priority } from '../domain/provisioning-request.ts';
import type { DueEntry, ProcessingStore, WorkQueue } from './ports.ts';

export type ProcessDueDependencies = {
  store: ProcessingStore;
  queue: WorkQueue;
  now: () => Date;
  dueShards: number;
  /** How long a handed-on request is left to the worker before the run looks at it again. */
  dispatchWindowMs: number;
  pageSize: number;
  /** Requests handed on per run at most; the rest stay due for the next run. */
  dispatchLimit?: number;
};

export type ProcessDueResult = {
  dispatched: number;
  sendFailures: number;
  outOfTime: boolean;
  atLimit: boolean;
  oldestDueAgeSeconds: number;
};

const PRIORITIES: Priority[] = ['EXPRESS', 'REGULAR'];

/**
 * The processing run (SPEC §3).
 * 1. For EXPRESS, then REGULAR: read every shard of the due index, oldest first, up to now.
 * 2. Hand each due request on: a conditional write moves its next look one dispatch window ahead (so an
 *    overlapping run cannot hand it on twice), then its id goes to the work queue; the worker is the only
 *    path to the headend.
 * 3. Stop when the time budget is spent or the run's dispatch limit (what the headend takes until the next
 *    run) is reached. Nothing is lost by stopping: whatever was not handed on is still due, and the next run
 *    starts from it, EXPRESS and oldest first again.
 * This also re-takes requests whose lease ran out and process-immediately requests whose queue send was
 * lost: both are simply due again.
 */
export const processDue = async (deps: ProcessDueDependencies, budgetMs: number): Promise<ProcessDueResult> => {
  const started = Date.now();
  const outOfTime = () => Date.now() - started >= budgetMs;
  const result: ProcessDueResult = {
    dispatched: 0,
    sendFailures: 0,
    outOfTime: false,
    atLimit: false,
    oldestDueAgeSeconds: 0,
  };
  const limit = deps.dispatchLimit ?? Number.POSITIVE_INFINITY;
  let taken = 0;
  const now = deps.now();

  for (const priority of PRIORITIES) {
    const shards = Array.from({ length: deps.dueShards }, (_, n) => `${priority}#${n}`);
    await Promise.all(
      shards.map(async (shard) => {
        let after: unknown;
        let first = true;
        do {
          if (outOfTime()) {
            result.outOfTime = true;
            return;
          }
          const room = limit - taken;
          if (room <= 0) {
            result.atLimit = true;
            return;
          }
          // Reserved before the read, so shards read in parallel never hand on more than the limit between them.
          const size = Math.min(deps.pageSize, room);
          taken += size;
          const page = await deps.store.findDue(shard, now, size, after);
          taken -= size - page.entries.length;
          if (first && page.entries[0]) {
            const age = (now.getTime() - new Date(page.entries[0].dueAt).getTime()) / 1000;
            result.oldestDueAgeSeconds = Math.max(result.oldestDueAgeSeconds, Math.round(age));
          }
          first = false;
          await handOn(deps, page.entries, result);
          after = page.next;
        } while (after !== undefined);
      }),
    );
    if (result.outOfTime || result.atLimit) break;
  }

  metrics.addMetric('DueRequestsDispatched', 'Count', result.dispatched);
  metrics.addMetric('OldestDueAgeSeconds', 'Seconds', result.oldestDueAgeSeconds);
  if (result.sendFailures > 0) metrics.addMetric('QueueSendFailures', 'Count', result.sendFailures);
  logger.info('Processing run finished', { ...result });
  return result;
};

const handOn = async (deps: ProcessDueDependencies, entries: DueEntry[], result: ProcessDueResult) => {
  const nextLook = new Date(deps.now().getTime() + deps.dispatchWindowMs);
  const marked = await Promise.all(
    entries.map(async (e) => ((await deps.store.markDispatched(e, nextLook)) ? e.id : undefined)),
  );
  const ids = marked.filter((id): id is string => id !== undefined);
  if (ids.length === 0) return;
  // A failed send needs no undo: the request is due again when the dispatch window ends.
  const { failed } = await deps.queue.send(ids, logger.getCorrelationId() as string | undefined);
  result.dispatched += ids.length - failed.length;
  result.sendFailures += failed.length;
};
