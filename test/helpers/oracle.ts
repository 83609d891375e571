import { expect } from 'vitest';
import type { Reply } from './http.ts';

/**
 * What a right answer looks like, written from SPEC §2 rather than from the implementation. The constants here
 * restate SPEC on purpose: a test that read them from the code under test would check the code against itself.
 */

/** SPEC §2.5, restated on purpose: the HTTP status of every catalogue code (NOT_FOUND: the router's unknown route). */
const SPEC_STATUS: Record<string, number> = {
  OK: 200,
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
  SMARTCARD_NOT_IN_SUBSCRIPTION: 422,
  NOT_A_NAGRAVISION_SMARTCARD: 422,
  IDEMPOTENCY_KEY_REUSED: 422,
  TOO_MANY_ATTEMPTS: 429,
  INTERNAL_ERROR: 500,
  SERVICE_UNAVAILABLE: 503,
};

/** SPEC §2, restated on purpose: CRM.COM's date-time form and ids of 32 uppercase hex characters. */
export const CRM_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
export const CRM_ID = /^[0-9A-F]{32}$/;
/** SPEC §2.5: the correlation id that 500 and 503 answers carry as their description. */
export const CORRELATION_ID = /^[0-9a-f-]{36}$/;

/**
 * A stack trace (frames on their own lines, raw or JSON-escaped, or a `stack` field), a source location or this
 * checkout's path: none of these may reach a client. Narrow on purpose, since descriptions echo client input.
 */
export const LEAK_PATTERN =
  /(?:\n|\\n)\s+at\s|\(file:\/\/|\((?:\/|node:)[^)]*:\d+:\d+\)|node:internal|node_modules\/|\/work\/main\/|"stack"\s*:/;

/**
 * What is wrong with a reply as CRM.COM's envelope (SPEC §2): an empty list when it is right. Errors carry a
 * catalogue code whose HTTP status is the reply's, a message sentence, a string description and `data: null`.
 */
export const envelopeProblems = (reply: Reply): string[] => {
  const problems: string[] = [];
  const { body } = reply;
  if (!reply.headers.get('content-type')?.startsWith('application/json')) problems.push('content-type is not JSON');
  if (LEAK_PATTERN.test(reply.text)) problems.push('the body carries a stack frame or a source path');
  if (body === undefined || typeof body !== 'object' || body === null) return [...problems, 'body is not JSON'];
  const keys = Object.keys(body).sort().join(',');
  if (keys !== 'data,status') problems.push(`top-level keys are ${keys}`);
  const { status } = body;
  if (typeof status !== 'object' || status === null) return [...problems, 'status is not an object'];
  if (Object.keys(status).sort().join(',') !== 'code,description,message') problems.push('status keys are wrong');
  if (typeof status.code !== 'string' || typeof status.message !== 'string' || typeof status.description !== 'string') {
    problems.push('status fields are not strings');
  }
  const expected = SPEC_STATUS[status.code];
  if (expected === undefined) problems.push(`code ${status.code} is not in SPEC §2.5`);
  else if (expected !== reply.status) problems.push(`code ${status.code} came with HTTP ${reply.status}`);
  if (reply.status === 200) {
    if (status.code !== 'OK' || status.message !== '' || status.description !== '') problems.push('200 is not OK');
  } else {
    if (body.data !== null) problems.push('an error carries data');
    if (status.message.trim() === '') problems.push('an error has no message');
  }
  return problems;
};

/**
 * SPEC §2.5's 503: SERVICE_UNAVAILABLE in the envelope, a Retry-After in seconds, a correlation id, a message,
 * and nothing of the failure itself (no connection error, no stack trace).
 */
export const expectUnavailable = (reply: Reply) => {
  expect({ status: reply.status, code: reply.body?.status.code, data: reply.body?.data }).toEqual({
    status: 503,
    code: 'SERVICE_UNAVAILABLE',
    data: null,
  });
  expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  expect(reply.body?.status.description).toMatch(CORRELATION_ID);
  expect(reply.body?.status.message.length).toBeGreaterThan(0);
  expect(reply.text).not.toMatch(/ECONNREFUSED|\n\s+at |node_modules/);
  expect(envelopeProblems(reply)).toEqual([]);
};
