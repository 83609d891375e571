/**
 * The error catalogue of SPEC §2.5. Every error a client can cause is an `ApiError` with a stable code;
 * anything else is a bug and becomes INTERNAL_ERROR.
 */
export const ERROR_STATUS = {
  INVALID_REQUEST: 400,
  MISSING_PARAMETER: 400,
  UNKNOWN_PARAMETER: 400,
  INVALID_IDENTIFIER: 400,
  INVALID_DATE: 400,
  INVALID_VALUE: 400,
  INVALID_TOKEN: 401,
  INVALID_CREDENTIALS: 401,
  SUBSCRIPTION_NOT_FOUND: 404,
  SMARTCARD_NOT_FOUND: 404,
  PROVISIONING_REQUEST_NOT_FOUND: 404,
  NOT_FOUND: 404,
  IDEMPOTENCY_KEY_IN_PROGRESS: 409,
  REQUEST_IN_PROGRESS: 409,
  REQUEST_ALREADY_FINAL: 409,
  PAYLOAD_TOO_LARGE: 413,
  UNSUPPORTED_MEDIA_TYPE: 415,
  IDEMPOTENCY_KEY_REUSED: 422,
  SMARTCARD_NOT_IN_SUBSCRIPTION: 422,
  NOT_A_NAGRAVISION_SMARTCARD: 422,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
} as const;

export type ErrorCode = keyof typeof ERROR_STATUS;

export class ApiError extends Error {
  readonly code: ErrorCode;
  readonly description: string;
  readonly status: number;
  /** Seconds the client should wait before trying again (the `Retry-After` header). */
  readonly retryAfterSeconds?: number;

  constructor(code: ErrorCode, message: string, description = '', retryAfterSeconds?: number) {
    super(message);
    this.name = 'ApiError';
    this.code = code;
    this.description = description;
    this.status = ERROR_STATUS[code];
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
