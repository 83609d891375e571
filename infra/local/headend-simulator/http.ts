import { createHash, timingSafeEqual } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';

const MAX_BODY_BYTES = 16 * 1024;

export function reply(
  res: ServerResponse,
  status: number,
  body: Record<string, unknown>,
  headers: Record<string, string> = {},
): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { ...headers, 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

/** The body as text, or undefined when it is larger than MAX_BODY_BYTES (read to the end regardless). */
export async function readBody(req: IncomingMessage): Promise<string | undefined> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size <= MAX_BODY_BYTES) chunks.push(chunk as Buffer);
  }
  return size <= MAX_BODY_BYTES ? Buffer.concat(chunks).toString('utf8') : undefined;
}

export function parseJsonObject(raw: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(raw);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function digest(value: string): Buffer {
  return createHash('sha256').update(value).digest();
}

// Comparing digests keeps the comparison constant-time and the lengths equal whatever the caller sent.
export function sameSecret(given: string, expected: Buffer): boolean {
  return timingSafeEqual(digest(given), expected);
}

/** One protocol's side of the simulator: its endpoints (its own admin endpoints included) and its counters. */
export type Protocol = {
  /** Answers the call when `path` is one of the protocol's endpoints; undefined when it is not. */
  route(req: IncomingMessage, res: ServerResponse, path: string): Promise<void> | undefined;
  /** The counters `GET /admin/stats` answers. */
  stats(): Record<string, unknown>;
  /** Forgets results and counters and restores the settings given at start. */
  reset(): void;
};
