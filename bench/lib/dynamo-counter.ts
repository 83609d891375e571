import { subscribe, unsubscribe } from 'node:diagnostics_channel';
import type { ClientRequest } from 'node:http';

export type RoundTripCounter = {
  /** Requests sent to the endpoint since the last reset. */
  total(): number;
  /** The same, by DynamoDB operation (from the X-Amz-Target header). */
  byOperation(): Record<string, number>;
  /**
   * Sequential round trips: how many times a request started while none was in flight. With one operation at a
   * time (concurrency 1) that is the operation's round trips on its latency path; requests sent side by side
   * count once.
   */
  waves(): number;
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
  let waves = 0;
  const inFlight = new Set<ClientRequest>();
  const ours = (request: ClientRequest) => request.getHeader('host') === host;
  const onRequest = (message: unknown) => {
    const { request } = message as { request: ClientRequest };
    if (!ours(request)) return;
    const target = String(request.getHeader('x-amz-target') ?? 'unknown');
    const operation = target.slice(target.indexOf('.') + 1);
    counts.set(operation, (counts.get(operation) ?? 0) + 1);
    if (inFlight.size === 0) waves += 1;
    inFlight.add(request);
  };
  // The reply's head (or the request's failure) ends a round trip: the next sequential request starts after it.
  const onDone = (message: unknown) => {
    inFlight.delete((message as { request: ClientRequest }).request);
  };
  const channels = {
    'http.client.request.start': onRequest,
    'http.client.response.finish': onDone,
    'http.client.request.error': onDone,
  };
  for (const [name, listener] of Object.entries(channels)) subscribe(name, listener);
  return {
    total: () => [...counts.values()].reduce((sum, n) => sum + n, 0),
    byOperation: () => Object.fromEntries([...counts].sort(([a], [b]) => a.localeCompare(b))),
    waves: () => waves,
    reset: () => {
      counts = new Map();
      waves = 0;
    },
    stop: () => {
      for (const [name, listener] of Object.entries(channels)) unsubscribe(name, listener);
    },
  };
};
