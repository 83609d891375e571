import type { IncomingMessage, ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseJsonObject, readBody, reply } from './http.ts';

export type HeadendFaults = {
  /** Added before every command is answered. */
  latencyMs?: number;
  /** Share of commands answered 503, 0..1. */
  failRate?: number;
  /** Accept commands but never answer them. */
  timeout?: boolean;
  /** Commands above this many in any sliding second are answered 429. */
  rateLimitPerSecond?: number;
  /** Connections are reset. */
  down?: boolean;
};

/** The faults of one endpoint, and the calls it received. */
export interface FaultGate {
  faults(): HeadendFaults;
  setFaults(faults: HeadendFaults): void;
  /**
   * Counts the call and plays the faults on it: undefined when a fault answered it (or left it hanging or reset
   * it), else its body (undefined inside when the body was too large) for the endpoint to answer.
   */
  admit(req: IncomingMessage, res: ServerResponse): Promise<{ body: string | undefined } | undefined>;
  calls(): number;
  /** The most calls open at the same time. */
  maxInFlight(): number;
  /** Forgets the counters and restores the faults given at start. */
  reset(): void;
}

const RATE_WINDOW_MS = 1000;
const FAULT_FIELDS = new Set(['latencyMs', 'failRate', 'timeout', 'rateLimitPerSecond', 'down']);

/**
 * `random` decides which calls fail under `failRate`; `lifetime` aborts pending latency sleeps so that stopping the
 * simulator leaves no timers behind.
 */
export function createFaultGate(
  initial: HeadendFaults | undefined,
  random: () => number,
  lifetime: AbortSignal,
): FaultGate {
  let faults: HeadendFaults = { ...initial };
  let admittedAt: number[] = [];
  let calls = 0;
  let inFlight = 0;
  let maxInFlight = 0;

  function overRate(limit: number): boolean {
    const now = Date.now();
    admittedAt = admittedAt.filter((at) => at > now - RATE_WINDOW_MS);
    if (admittedAt.length >= limit) return true;
    admittedAt.push(now);
    return false;
  }

  return {
    faults: () => ({ ...faults }),
    setFaults(next) {
      faults = { ...next };
    },
    async admit(req, res) {
      calls += 1;
      inFlight += 1;
      maxInFlight = Math.max(maxInFlight, inFlight);
      res.once('close', () => {
        inFlight -= 1;
      });
      const active = faults;
      if (active.down) {
        req.socket.resetAndDestroy();
        return undefined;
      }
      // Left unanswered on purpose; stopping the simulator closes such connections.
      if (active.timeout) return undefined;
      const limited = active.rateLimitPerSecond !== undefined && overRate(active.rateLimitPerSecond);
      const body = await readBody(req);
      if (active.latencyMs !== undefined && active.latencyMs > 0) {
        try {
          await sleep(active.latencyMs, undefined, { signal: lifetime });
        } catch {
          return undefined;
        }
      }
      if (limited) {
        reply(res, 429, { result: 'RATE_LIMITED' });
        return undefined;
      }
      if (active.failRate !== undefined && active.failRate > 0 && random() < active.failRate) {
        reply(res, 503, { result: 'UNAVAILABLE' });
        return undefined;
      }
      return { body };
    },
    calls: () => calls,
    maxInFlight: () => maxInFlight,
    reset() {
      faults = { ...initial };
      admittedAt = [];
      calls = 0;
      maxInFlight = inFlight;
    },
  };
}

/** The faults, or a description of what is wrong with the body. */
export function parseFaults(raw: string): HeadendFaults | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const unknown = Object.keys(body).find((key) => !FAULT_FIELDS.has(key));
  if (unknown !== undefined) return `Unknown fault ${unknown}.`;
  const { latencyMs, failRate, timeout, rateLimitPerSecond, down } = body;
  if (latencyMs !== undefined && !(typeof latencyMs === 'number' && latencyMs >= 0 && Number.isFinite(latencyMs))) {
    return 'latencyMs must be a number of milliseconds, 0 or more.';
  }
  if (failRate !== undefined && !(typeof failRate === 'number' && failRate >= 0 && failRate <= 1)) {
    return 'failRate must be a number from 0 to 1.';
  }
  if (rateLimitPerSecond !== undefined && !(typeof rateLimitPerSecond === 'number' && rateLimitPerSecond >= 0)) {
    return 'rateLimitPerSecond must be a number, 0 or more.';
  }
  if (timeout !== undefined && typeof timeout !== 'boolean') return 'timeout must be true or false.';
  if (down !== undefined && typeof down !== 'boolean') return 'down must be true or false.';
  return body as HeadendFaults;
}
