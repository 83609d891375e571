/** Helpers the headend adapters and the CAG token cache share for reading HTTP replies and fetch failures. */

// The reply is stored on the provisioning request; an HTML error page from a proxy must not bloat the item.
export const MAX_STORED_UNEXPECTED_BODY = 2048;

export function parseObject(text: string): Record<string, unknown> | undefined {
  try {
    const value: unknown = JSON.parse(text);
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : undefined;
  } catch {
    return undefined;
  }
}

export function errorName(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}

// undici reports socket failures as TypeError('fetch failed') with the system error as `cause`.
export function connectionErrorCode(error: unknown): string {
  const cause = error instanceof Error ? error.cause : undefined;
  if (typeof cause === 'object' && cause !== null && 'code' in cause && typeof cause.code === 'string') {
    return cause.code;
  }
  return errorName(error);
}
