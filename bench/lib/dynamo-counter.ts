import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export type RoundTripCounter = {
  /** Requests sent to the endpoint since the last reset. */
  total(): number;
  /** The same, by DynamoDB operation (from the X-Amz-Target header). */
  byOperation(): Record<string, number>;
  reset(): void;
  stop(): void;
};

/**
 * Counts the HTTP requests this process sends to one endpoint, whoever sends them (the handler's own SDK
 * client included), through Node's `http.client.request.start` diagnostics channel: a real count of round
 * trips, with no proxy in the path to add latency and no change to the client under test.
 */
export const countRoundTrips = (endpoint: string): RoundTripCounter => {
  const host = new URL(endpoint).host;
  let counts = new Map<string, number>();
  const onRequest = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (request.getHeader('host') !== host) return;
    const target = String(request.getHeader('x-amz-target') ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
  };
  subscribe('http.client.request.start', onRequest);
  return {
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    byOperation: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    reset: () => {
      counts = new Map();
    },
    stop: () => unsubscribe('http.client.request.start', onRequest),
  };
};
