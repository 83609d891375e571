/**
 * The HTTP load generator, in a process of its own so it does not share the event loop (and core) of the
 * stack it measures. Usage: http-load.ts <url> <connections> <durationSeconds> <jsonBody> [keyed]
 * With `keyed`, every request carries an Idempotency-Key of its own, so each one is a keyed create (never a
 * repeat of an earlier one). Prints { concurrency, requests, errors, non2xx, duration_s, rps, p50_ms, p99_ms, ... }.
 */
import autocannon, { type Request, type Result } from 'autocannon';
import { emitResult } from '../lib/child.ts';
import { summarize } from '../lib/closed-loop.ts';

const [url, connections, durationSeconds, body, mode] = process.argv.slice(2);
if (!url || !connections || !durationSeconds || !body) throw new Error('usage: http-load.ts url c seconds body');

const keyPrefix = `bench-${process.pid}-${Date.now()}`;
let keys = 0;
const keyed = {
  requests: [
    {
      setupRequest: (request: Request): Request => ({
        ...request,
        headers: { ...request.headers, 'idempotency-key': `${keyPrefix}-${keys++}` },
      }),
    },
  ],
};

// autocannon's own histogram keeps whole milliseconds; the raw response times keep the fractions.
const latencies: number[] = [];
const statuses: Record<string, number> = {};
const result = await new Promise<Result>((resolve, reject) => {
  const instance = autocannon(
    {
      url,
      method: 'POST',
      connections: Number(connections),
      duration: Number(durationSeconds),
      headers: { 'content-type': 'application/json' },
      body,
      ...(mode === 'keyed' ? keyed : {}),
    },
    (error, done) => (error ? reject(error) : resolve(done)),
  );
  instance.on('response', (_client, statusCode, _bytes, responseTime) => {
    statuses[statusCode] = (statuses[statusCode] ?? 0) + 1;
    if (statusCode >= 200 && statusCode < 300) latencies.push(responseTime);
  });
});
const summary = summarize(Number(connections), latencies, result.errors + result.non2xx, result.duration);
emitResult({ ...summary, non2xx: result.non2xx, connection_errors: result.errors, statuses });
