import { eventOf } from '../domain/provisioning-event.ts';
import type { ProvisioningRequest } from '../domain/provisioning-request.ts';
import type { EventOutbox, EventPublisher, Telemetry } from './ports.ts';

export type PublishDependencies = Telemetry & {
  events: EventPublisher;
  outbox: EventOutbox;
  timeZone: string;
};

/**
 * Publishes the event of a request that has just become final (SPEC §3.1), and takes it out of the outbox. A
 * failure leaves it there for the processing run: the event is late, never lost. The final write itself is done,
 * so nothing here fails the caller.
 */
export const announceFinalState = async (deps: PublishDependencies, request: ProvisioningRequest): Promise<void> => {
  try {
    const { failed } = await deps.events.publish([eventOf(request, deps.timeZone)]);
    if (failed.length === 0) {
      await deps.outbox.published([{ id: request.id, eventAt: request.updatedAt }]);
      return;
    }
  } catch (error) {
    deps.log.warn('Event not published; the processing run will publish it', {
      requestId: request.id,
      error: (error as Error).name,
    });
  }
  deps.metrics.addMetric('EventPublishFailures', 'Count', 1);
};

/** Outbox entries younger than this are left to the writer that placed them, which is publishing them now. */
export const SWEEP_GRACE_MS = 10_000;

/**
 * The processing run's sweep of the events outbox: publishes every event a final write left unpublished (its
 * publisher failed, or died), oldest first, at most `limit` a run. Delivery is at least once: an event whose
 * publication succeeded but whose removal from the outbox did not is published again; consumers dedupe on
 * `detail.id`.
 */
export const publishPendingEvents = async (
  deps: PublishDependencies & { now: () => Date },
  limit: number,
): Promise<{ published: number; failed: number }> => {
  const entries = await deps.outbox.pending(new Date(deps.now().getTime() - SWEEP_GRACE_MS), limit);
  if (entries.length === 0) return { published: 0, failed: 0 };
  const requests = await deps.outbox.requests(entries);
  const { failed } = await deps.events.publish(requests.map((r) => eventOf(r, deps.timeZone)));
  const failedIds = new Set(failed);
  const done = entries.filter((e) => !failedIds.has(e.id));
  await deps.outbox.published(done);
  deps.metrics.addMetric('EventsPublishedBySweep', 'Count', done.length);
  if (failed.length > 0) {
    deps.metrics.addMetric('EventPublishFailures', 'Count', failed.length);
    deps.log.warn('Events not published; the next run tries again', { failed: failed.length });
  }
  return { published: done.length, failed: failed.length };
};
