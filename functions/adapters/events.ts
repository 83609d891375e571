import { randomUUID } from 'node:crypto';
import { type EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import type { ProvisioningEvent } from '../domain/provisioning-event.ts';
import type { EventPublisher } from '../use-cases/ports.ts';

const BATCH = 10;

const batches = <T>(items: T[]): T[][] =>
  Array.from({ length: Math.ceil(items.length / BATCH) }, (_, i) => items.slice(i * BATCH, (i + 1) * BATCH));

/** Publishes to the stage's EventBridge bus (SPEC §3.1), ten events per PutEvents; rules take them on from there. */
export const createEventBridgePublisher = (
  client: EventBridgeClient,
  options: { busName: string; source: string },
): EventPublisher => ({
  async publish(events) {
    const failed: string[] = [];
    await Promise.all(
      batches(events).map(async (batch) => {
        try {
          const { Entries = [] } = await client.send(
            new PutEventsCommand({
              Entries: batch.map((event) => ({
                EventBusName: options.busName,
                Source: options.source,
                DetailType: event.detailType,
                Detail: JSON.stringify(event.detail),
                Time: new Date(event.time),
              })),
            }),
          );
          // PutEvents answers one entry per event, in order; a failed one carries an ErrorCode.
          batch.forEach((event, i) => {
            if (Entries[i]?.ErrorCode !== undefined || Entries[i]?.EventId === undefined) failed.push(event.requestId);
          });
        } catch {
          failed.push(...batch.map((event) => event.requestId));
        }
      }),
    );
    return { failed };
  },
});

/**
 * The whole EventBridge event, as a rule's target would receive it, POSTed to a webhook: what the local stack
 * delivers to `EVENTS_WEBHOOK_URL` in place of a bus and its API destinations.
 */
export const asEventBridgeEvent = (event: ProvisioningEvent, source: string) => ({
  version: '0',
  id: randomUUID(),
  'detail-type': event.detailType,
  source,
  account: '000000000000',
  time: `${event.time.slice(0, 19)}Z`,
  region: 'us-east-1',
  resources: [],
  detail: event.detail,
});

export const createWebhookPublisher = (options: {
  url: string;
  source: string;
  timeoutMs: number;
}): EventPublisher => ({
  async publish(events) {
    const outcomes = await Promise.all(
      events.map(async (event) => {
        try {
          const reply = await fetch(options.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json' },
            body: JSON.stringify(asEventBridgeEvent(event, options.source)),
            signal: AbortSignal.timeout(options.timeoutMs),
            redirect: 'manual',
          });
          await reply.body?.cancel();
          return reply.ok ? undefined : event.requestId;
        } catch {
          return event.requestId;
        }
      }),
    );
    return { failed: outcomes.filter((id): id is string => id !== undefined) };
  },
});

/** Where no one listens (the local stack without a webhook): the events are dropped, which is said at start. */
export const droppingPublisher: EventPublisher = { publish: async () => ({ failed: [] }) };

/** The publisher of a function's environment: the bus in AWS, the webhook locally, or none. */
export const eventPublisherFor = (
  env: { EVENT_BUS_NAME?: string; EVENTS_WEBHOOK_URL?: string; EVENT_SOURCE: string },
  bus: () => EventBridgeClient,
): EventPublisher => {
  if (env.EVENT_BUS_NAME)
    return createEventBridgePublisher(bus(), { busName: env.EVENT_BUS_NAME, source: env.EVENT_SOURCE });
  if (env.EVENTS_WEBHOOK_URL) {
    return createWebhookPublisher({ url: env.EVENTS_WEBHOOK_URL, source: env.EVENT_SOURCE, timeoutMs: 2_000 });
  }
  return droppingPublisher;
};
