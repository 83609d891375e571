import type { Priority } from '../domain/provisioning-request.ts';
import type { DueEntry, DueIndex, Telemetry, WorkQueue } from './ports.ts';

export type ProcessDueDependencies = Telemetry & {
  due: DueIndex;
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
export const processDue = async (
  deps: ProcessDueDependencies,
  run: { budgetMs: number; correlationId?: string },
): Promise<ProcessDueResult> => {
  const started = Date.now();
  const outOfTime = () => Date.now() - started >= run.budgetMs;
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
    // Rounds over the priority's shards: one page of each in parallel, then the oldest of them handed on, never
    // more than the limit leaves room for. What a round does not take stays due for the next run.
    let cursors: { shard: string; after?: unknown }[] = Array.from({ length: deps.dueShards }, (_, n) => ({
      shard: `${priority}#${n}`,
    }));
    let firstRound = true;
    while (cursors.length > 0) {
      if (outOfTime()) result.outOfTime = true;
      if (result.outOfTime || taken >= limit) break;
      const room = limit - taken;
      const pages = await Promise.all(
        cursors.map((c) => deps.due.findDue(c.shard, now, Math.min(deps.pageSize, room), c.after)),
      );
      const entries = pages
        .flatMap((page) => page.entries)
        .sort((a, b) => a.dueAt.localeCompare(b.dueAt))
        .slice(0, room);
      if (firstRound && entries[0]) {
        result.oldestDueAgeSeconds = Math.max(
          result.oldestDueAgeSeconds,
          Math.round((now.getTime() - new Date(entries[0].dueAt).getTime()) / 1000),
        );
      }
      firstRound = false;
      taken += entries.length;
      await handOn(deps, entries, result, run.correlationId);
      cursors = cursors.flatMap((c, i) => (pages[i]?.next === undefined ? [] : [{ ...c, after: pages[i]?.next }]));
    }
    if (result.outOfTime || taken >= limit) break;
  }
  result.atLimit = taken >= limit;

  deps.metrics.addMetric('DueRequestsDispatched', 'Count', result.dispatched);
  deps.metrics.addMetric('OldestDueAgeSeconds', 'Seconds', result.oldestDueAgeSeconds);
  if (result.sendFailures > 0) deps.metrics.addMetric('QueueSendFailures', 'Count', result.sendFailures);
  deps.log.info('Processing run finished', { ...result });
  return result;
};

const handOn = async (
  deps: ProcessDueDependencies,
  entries: DueEntry[],
  result: ProcessDueResult,
  correlationId: string | undefined,
) => {
  const nextLook = new Date(deps.now().getTime() + deps.dispatchWindowMs);
  const marked = await Promise.all(
    entries.map(async (e) => ((await deps.due.markDispatched(e, nextLook)) ? e.id : undefined)),
  );
  const ids = marked.filter((id): id is string => id !== undefined);
  if (ids.length === 0) return;
  // A failed send needs no undo: the request is due again when the dispatch window ends.
  const { failed } = await deps.queue.send(ids, correlationId);
  result.dispatched += ids.length - failed.length;
  result.sendFailures += failed.length;
};
