/** Names the AWS SDK gives to throttling, server-side failures and calls that ran out of time. */
const UNAVAILABLE_NAMES = new Set([
  'ThrottlingException',
  'ProvisionedThroughputExceededException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'TimeoutError',
  'RequestTimeout',
  // The invocation's deadline (platform/aws-clients.ts) cut a call short: the dependency did not answer in time.
  'AbortError',
  'IdempotencyPersistenceLayerError',
]);

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'ENOTFOUND',
  'EHOSTUNREACH',
  'EAI_AGAIN',
]);

/**
 * True when an error means a dependency (DynamoDB, SQS) is down or overloaded rather than a bug: the client gets
 * 503 with Retry-After.
 */
export const isDependencyUnavailable = (error: unknown): boolean => {
  if (!(error instanceof Error)) return false;
  const e = error as Error & { code?: string; $metadata?: { httpStatusCode?: number }; cause?: unknown };
  if (UNAVAILABLE_NAMES.has(e.name)) return true;
  if (e.code !== undefined && NETWORK_CODES.has(e.code)) return true;
  if ((e.$metadata?.httpStatusCode ?? 0) >= 500) return true;
  return e.cause !== undefined && e.cause !== error && isDependencyUnavailable(e.cause);
};
