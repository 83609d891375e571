import { randomUUID } from 'node:crypto';
import type { LocalEndpoint } from '../../helpers/local-server.ts';
import { startAwsJsonService } from './aws-json-service.ts';

/** An event as a PutEvents entry gave it, the detail parsed. */
export type PutEvent = { bus: string; source: string; detailType: string; detail: Record<string, unknown> };

/**
 * A local EventBridge for the SDK, answering `AWSEvents.PutEvents` for the buses it knows (an unknown bus fails
 * its entry, as EventBridge does) and keeping what it was sent.
 */
export const startEventBridge = async (buses: readonly string[]): Promise<LocalEndpoint & { events: PutEvent[] }> => {
  const events: PutEvent[] = [];
  const service = await startAwsJsonService({
    'AWSEvents.PutEvents': (body) => {
      const entries = (body.Entries ?? []) as Record<string, string>[];
      const results = entries.map((entry) => {
        const bus = entry.EventBusName ?? 'default';
        if (!buses.includes(bus)) return { ErrorCode: 'ResourceNotFoundException', ErrorMessage: `No bus ${bus}` };
        events.push({
          bus,
          source: entry.Source ?? '',
          detailType: entry.DetailType ?? '',
          detail: JSON.parse(entry.Detail ?? '{}'),
        });
        return { EventId: randomUUID() };
      });
      return [200, { FailedEntryCount: results.filter((r) => 'ErrorCode' in r).length, Entries: results }];
    },
  });
  return { ...service, events };
};
