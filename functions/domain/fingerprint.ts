import { createHash } from 'node:crypto';

/** The value with every object's keys sorted, so equal data serialises equally. */
export const canonical = (value: unknown): unknown => {
  if (Array.isArray(value)) return value.map(canonical);
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
};

/**
 * A hash of a JSON body that ignores key order and the named top-level fields, so that a repeat with a fresh
 * token (after a new login) still counts as the same request.
 */
export const bodyFingerprint = (body: unknown, ignore: string[]): string => {
  const kept = Object.fromEntries(Object.entries(body as Record<string, unknown>).filter(([k]) => !ignore.includes(k)));
  return createHash('sha256')
    .update(JSON.stringify(canonical(kept)))
    .digest('hex');
};
