import { PutCommand, UpdateCommand } from '@aws-sdk/lib-dynamodb';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { derivedId } from '../../functions/domain/identifiers.ts';
import {
  DEMO_LOGIN,
  DEMO_ORGANISATION,
  DEMO_TOKEN,
  DEMO_UNIT_ID,
  KNOWN_CARD,
  OTHER_KNOWN_CARD,
  OTHER_LOGIN,
  seedBody,
  UNKNOWN_CARD,
} from '../helpers/demo.ts';
import {
  type CrmRequest,
  createRequest,
  get,
  login,
  postJson,
  type Query,
  type Reply,
  tokenIn,
} from '../helpers/http.ts';
import {
  notFoundProblems,
  OPENAPI,
  OPERATIONS,
  type Operation,
  parameterProblems,
  postBytes,
  requestBodyProblems,
  responseProblems,
} from '../helpers/openapi.ts';
import { scheduledDateAt, unreadableRequestItem, waitUntilFinal } from '../helpers/requests.ts';
import { FAST_PROCESSING_ENV, useLocalStack } from '../helpers/stack.ts';

/**
 * Issue requirement 6: docs/openapi.json describes exactly what the service answers. Real answers of every route
 * (success, and each error code the document lists for the route that a client or a test can provoke), sent
 * through the local HTTP front against dynalite, are validated with ajv against the document itself, never against
 * the zod schemas it is generated from. The requests are checked too: what the service takes is valid for the
 * document, and what it refuses for its structure (a field missing, unknown, of the wrong type, two identifier
 * fields) is invalid for it.
 */

// Processing on, so that COMPLETED and REJECTED requests can be shown; its failures are silenced (the outage below).
const stack = useLocalStack({ env: { ...FAST_PROCESSING_ENV, POWERTOOLS_LOG_LEVEL: 'SILENT' } });

type OperationName = keyof typeof OPERATIONS;

/** One request as sent: a JSON body (or raw text, or raw bytes) for a POST, a query for a GET. */
type Sent = {
  body?: unknown;
  raw?: string;
  bytes?: Buffer;
  query?: Query;
  headers?: Record<string, string>;
};

type Case = {
  operation: OperationName;
  status: number;
  code: string;
  label: string;
  /** Built when the test runs, from what beforeAll prepared. */
  request: () => Sent;
  /** Answered only while DynamoDB is down (the last group). */
  outage?: boolean;
  /** A refusal of a header's value, which the document's parameter schema must refuse too. */
  refusesHeader?: boolean;
};

const send = (operation: Operation, sent: Sent): Promise<Reply> => {
  if (operation.method === 'GET') return get(stack(), operation.path, sent.query);
  if (sent.bytes !== undefined) return postBytes(stack(), operation.path, sent.bytes);
  return postJson(stack(), operation.path, sent.raw ?? sent.body, sent.headers);
};

/** The codes a service answers when it refuses a request for its structure, which the document must refuse too. */
const STRUCTURAL = new Set(['MISSING_PARAMETER', 'UNKNOWN_PARAMETER', 'INVALID_REQUEST', 'INVALID_IDENTIFIER']);

/** The JSON a request carried, when it carried JSON (undefined for text that is not JSON). */
const jsonSent = (sent: Sent): unknown => {
  if (sent.raw === undefined) return sent.body;
  try {
    return JSON.parse(sent.raw);
  } catch {
    return undefined;
  }
};

/** SPEC §2.5: the 16 KiB limit, restated on purpose. */
const MAX_BODY_BYTES = 16 * 1024;
const padded = (value: unknown, bytes: number) => {
  const json = JSON.stringify(value);
  return json + ' '.repeat(bytes - Buffer.byteLength(json));
};
/** A body that is valid JSON but for one byte that is never UTF-8 (0xFF), in the whitespace after the object. */
const notUtf8 = (value: unknown) => Buffer.concat([Buffer.from(`${JSON.stringify(value)} `), Buffer.from([0xff])]);

const UNKNOWN_TOKEN = '00000000000000000000000000000000';
const UNKNOWN_ID = '0123456789ABCDEF0123456789ABCDEF';

/** What beforeAll prepares: requests in each state, tokens, and stored records that provoke the rarer answers. */
const ctx = {} as {
  pending: CrmRequest;
  toCancelById: CrmRequest;
  toCancelByNumber: CrmRequest;
  cancelled: CrmRequest;
  claimed: CrmRequest;
  completed: CrmRequest;
  rejected: CrmRequest;
  releasable: string;
  otherToken: string;
};

/** A username locked out by five failed logins (SPEC §2.1); it needs no account to be locked. */
const LOCKED_USERNAME = 'conformance-lockout';
/** The Idempotency-Key whose request is planted "still being created" (see beforeAll). */
const KEY_IN_PROGRESS = 'conformance-in-progress';
/** A request of CRMOTHER whose stored creation date is not a date: reading it is a bug, INTERNAL_ERROR. */
const CORRUPT_ID = 'C0BB0C0BB0C0BB0C0BB0C0BB0C0BB000';

const tomorrow = () => scheduledDateAt(new Date(Date.now() + 24 * 3600 * 1000));
const cancelBody = (identifier: Record<string, string>, token = DEMO_TOKEN) => ({
  token,
  provisioning_request_identifier: identifier,
});

const CASES: Case[] = [
  // login
  { operation: 'login', status: 200, code: 'OK', label: 'organisation', request: () => ({ body: DEMO_LOGIN }) },
  {
    operation: 'login',
    status: 200,
    code: 'OK',
    label: 'the spelling organization, and a unit',
    request: () => ({
      body: {
        username: DEMO_LOGIN.username,
        password: DEMO_LOGIN.password,
        organization: DEMO_LOGIN.organisation,
        unit: DEMO_UNIT_ID,
      },
    }),
  },
  {
    operation: 'login',
    status: 200,
    code: 'OK',
    label: 'both spellings, equal',
    request: () => ({ body: { ...DEMO_LOGIN, organization: DEMO_LOGIN.organisation } }),
  },
  { operation: 'login', status: 400, code: 'INVALID_REQUEST', label: 'not JSON', request: () => ({ raw: '{"user' }) },
  {
    operation: 'login',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'username of the wrong type',
    request: () => ({ body: { ...DEMO_LOGIN, username: 7 } }),
  },
  {
    operation: 'login',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'not UTF-8',
    request: () => ({ bytes: notUtf8(DEMO_LOGIN) }),
  },
  {
    operation: 'login',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no password',
    request: () => ({ body: { username: DEMO_LOGIN.username, organisation: DEMO_LOGIN.organisation } }),
  },
  {
    operation: 'login',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no organisation in either spelling',
    request: () => ({ body: { username: DEMO_LOGIN.username, password: DEMO_LOGIN.password } }),
  },
  {
    operation: 'login',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown field',
    request: () => ({ body: { ...DEMO_LOGIN, remember_me: true } }),
  },
  {
    operation: 'login',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'organisation and organization differ',
    request: () => ({ body: { ...DEMO_LOGIN, organization: 'CRMOTHER' } }),
  },
  {
    operation: 'login',
    status: 401,
    code: 'INVALID_CREDENTIALS',
    label: 'a wrong password',
    request: () => ({ body: { ...DEMO_LOGIN, password: 'wrong' } }),
  },
  {
    operation: 'login',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    label: 'a body one byte over 16 KiB',
    request: () => ({ raw: padded(DEMO_LOGIN, MAX_BODY_BYTES + 1) }),
  },
  {
    operation: 'login',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    label: 'text/plain',
    request: () => ({ body: DEMO_LOGIN, headers: { 'Content-Type': 'text/plain' } }),
  },
  {
    operation: 'login',
    status: 429,
    code: 'TOO_MANY_ATTEMPTS',
    label: 'a locked username',
    request: () => ({ body: { ...DEMO_LOGIN, username: LOCKED_USERNAME } }),
  },

  // release
  {
    operation: 'release',
    status: 200,
    code: 'OK',
    label: 'a live token',
    request: () => ({ body: { token: ctx.releasable } }),
  },
  { operation: 'release', status: 400, code: 'INVALID_REQUEST', label: 'an array', request: () => ({ raw: '[]' }) },
  {
    operation: 'release',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'not UTF-8',
    request: () => ({ bytes: notUtf8({ token: DEMO_TOKEN }) }),
  },
  {
    operation: 'release',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown field',
    request: () => ({ body: { token: DEMO_TOKEN, everywhere: true } }),
  },
  {
    operation: 'release',
    status: 401,
    code: 'INVALID_TOKEN',
    label: 'an unknown token',
    request: () => ({ body: { token: UNKNOWN_TOKEN } }),
  },
  {
    operation: 'release',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    label: 'a body one byte over 16 KiB',
    request: () => ({ raw: padded({ token: DEMO_TOKEN }, MAX_BODY_BYTES + 1) }),
  },
  {
    operation: 'release',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    label: 'a form',
    request: () => ({ body: { token: DEMO_TOKEN }, headers: { 'Content-Type': 'application/x-www-form-urlencoded' } }),
  },

  // clear_pin
  { operation: 'clearPin', status: 200, code: 'OK', label: 'the seed body', request: () => ({ body: seedBody() }) },
  {
    operation: 'clearPin',
    status: 200,
    code: 'OK',
    label: 'every optional field, by id and alternative code, with an Idempotency-Key',
    request: () => ({
      body: {
        token: DEMO_TOKEN,
        subscription_identifier: { id: KNOWN_CARD.subscriptionId },
        smartcard_identifier: { alternative_code: KNOWN_CARD.alternativeCode },
        process_immediately: 'false',
        scheduled_date: tomorrow(),
        priority: 'EXPRESS',
      },
      headers: { 'Idempotency-Key': `conformance ${Date.now()} ~!@#$%^&*()` },
    }),
  },
  {
    operation: 'clearPin',
    status: 200,
    code: 'OK',
    label: 'process_immediately 1, a date-only scheduled_date, an Idempotency-Key of 128 characters',
    request: () => ({
      body: seedBody({ process_immediately: 1, scheduled_date: tomorrow().slice(0, 10) }),
      headers: { 'Idempotency-Key': `${Date.now()}`.padEnd(128, 'k') },
    }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'not JSON',
    request: () => ({ raw: 'token=' }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'priority null',
    request: () => ({ body: seedBody({ priority: null }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'an identifier that is a string',
    request: () => ({ body: seedBody({ subscription_identifier: KNOWN_CARD.subscription }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'not UTF-8',
    request: () => ({ bytes: notUtf8(seedBody()) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no smartcard_identifier',
    request: () => ({ body: seedBody({ smartcard_identifier: undefined }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no subscription_identifier',
    request: () => ({ body: seedBody({ subscription_identifier: undefined }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'a misspelt field',
    request: () => ({ body: seedBody({ process_immediatelly: true }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown field inside an identifier',
    request: () => ({ body: seedBody({ smartcard_identifier: { serial_number: KNOWN_CARD.serial, foo: 'x' } }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'two subscription identifier fields',
    request: () => ({
      body: seedBody({ subscription_identifier: { id: KNOWN_CARD.subscriptionId, number: KNOWN_CARD.subscription } }),
    }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'two smartcard identifier fields',
    request: () => ({
      body: seedBody({ smartcard_identifier: { serial_number: KNOWN_CARD.serial, id: KNOWN_CARD.itemId } }),
    }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'an identifier with no field',
    request: () => ({ body: seedBody({ smartcard_identifier: {} }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'an empty identifier',
    request: () => ({ body: seedBody({ subscription_identifier: { number: '' } }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_DATE',
    label: 'hour 24',
    request: () => ({ body: seedBody({ scheduled_date: `${tomorrow().slice(0, 10)}T24:00:00Z` }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'an unknown priority',
    request: () => ({ body: seedBody({ priority: 'URGENT' }) }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'an Idempotency-Key of 129 characters',
    refusesHeader: true,
    request: () => ({ body: seedBody(), headers: { 'Idempotency-Key': 'k'.repeat(129) } }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'an Idempotency-Key with a tab',
    refusesHeader: true,
    request: () => ({ body: seedBody(), headers: { 'Idempotency-Key': 'a\tb' } }),
  },
  {
    operation: 'clearPin',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'an Idempotency-Key with a Latin-1 letter',
    refusesHeader: true,
    request: () => ({ body: seedBody(), headers: { 'Idempotency-Key': 'clé' } }),
  },
  {
    operation: 'clearPin',
    status: 401,
    code: 'INVALID_TOKEN',
    label: 'an unknown token',
    request: () => ({ body: seedBody({ token: UNKNOWN_TOKEN }) }),
  },
  {
    operation: 'clearPin',
    status: 404,
    code: 'SUBSCRIPTION_NOT_FOUND',
    label: 'an unknown subscription',
    request: () => ({ body: seedBody({ subscription_identifier: { number: 'S00000' } }) }),
  },
  {
    operation: 'clearPin',
    status: 404,
    code: 'SMARTCARD_NOT_FOUND',
    label: 'an unknown smartcard',
    request: () => ({ body: seedBody({ smartcard_identifier: { serial_number: 'smrt00000000' } }) }),
  },
  {
    operation: 'clearPin',
    status: 409,
    code: 'IDEMPOTENCY_KEY_IN_PROGRESS',
    label: 'a key whose first request is still being created',
    request: () => ({ body: seedBody(), headers: { 'Idempotency-Key': KEY_IN_PROGRESS } }),
  },
  {
    operation: 'clearPin',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    label: 'a body one byte over 16 KiB',
    request: () => ({ raw: padded(seedBody(), MAX_BODY_BYTES + 1) }),
  },
  {
    operation: 'clearPin',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    label: 'text/plain',
    request: () => ({ body: seedBody(), headers: { 'Content-Type': 'text/plain' } }),
  },
  {
    operation: 'clearPin',
    status: 422,
    code: 'IDEMPOTENCY_KEY_REUSED',
    label: 'a key used with another request',
    request: () => ({ body: seedBody({ priority: 'EXPRESS' }), headers: { 'Idempotency-Key': 'conformance-first' } }),
  },
  {
    operation: 'clearPin',
    status: 422,
    code: 'SMARTCARD_NOT_IN_SUBSCRIPTION',
    label: "another subscription's card",
    request: () => ({ body: seedBody({ subscription_identifier: { number: OTHER_KNOWN_CARD.subscription } }) }),
  },
  {
    operation: 'clearPin',
    status: 422,
    code: 'NOT_A_NAGRAVISION_SMARTCARD',
    label: 'a set-top box',
    request: () => ({ body: seedBody({ smartcard_identifier: { serial_number: 'stb10000001' } }) }),
  },

  // show
  {
    operation: 'show',
    status: 200,
    code: 'OK',
    label: 'a PENDING request by id',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.pending.id}` } }),
  },
  {
    operation: 'show',
    status: 200,
    code: 'OK',
    label: 'a COMPLETED request by number',
    request: () => ({
      query: { token: DEMO_TOKEN, provisioning_request_identifier: `number=${ctx.completed.number}` },
    }),
  },
  {
    operation: 'show',
    status: 200,
    code: 'OK',
    label: 'a REJECTED request',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.rejected.id}` } }),
  },
  {
    operation: 'show',
    status: 200,
    code: 'OK',
    label: 'a cancelled request',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.cancelled.id}` } }),
  },
  {
    operation: 'show',
    status: 200,
    code: 'OK',
    label: 'with fields_set',
    request: () => ({
      query: {
        token: DEMO_TOKEN,
        provisioning_request_identifier: `id=${ctx.completed.id}`,
        fields_set: 'id,number,life_cycle_state,executed_date,log_information',
      },
    }),
  },
  {
    operation: 'show',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no identifier',
    request: () => ({ query: { token: DEMO_TOKEN } }),
  },
  {
    operation: 'show',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'the identifier given twice',
    request: () => ({
      query: {
        token: DEMO_TOKEN,
        provisioning_request_identifier: [`id=${ctx.pending.id}`, `id=${ctx.completed.id}`],
      },
    }),
  },
  {
    operation: 'show',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown parameter',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: 'number=1', verbose: '1' } }),
  },
  {
    operation: 'show',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'an identifier without its field',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: ctx.pending.id } }),
  },
  {
    operation: 'show',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'an unknown field in fields_set',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: 'number=1', fields_set: 'pin' } }),
  },
  {
    operation: 'show',
    status: 401,
    code: 'INVALID_TOKEN',
    label: 'an unknown token',
    request: () => ({ query: { token: UNKNOWN_TOKEN, provisioning_request_identifier: 'number=1' } }),
  },
  {
    operation: 'show',
    status: 404,
    code: 'PROVISIONING_REQUEST_NOT_FOUND',
    label: 'an unknown id',
    request: () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${UNKNOWN_ID}` } }),
  },
  {
    operation: 'show',
    status: 500,
    code: 'INTERNAL_ERROR',
    label: 'a stored request that cannot be read',
    request: () => ({ query: { token: ctx.otherToken, provisioning_request_identifier: `id=${CORRUPT_ID}` } }),
  },

  // list
  { operation: 'list', status: 200, code: 'OK', label: 'no filter', request: () => ({ query: { token: DEMO_TOKEN } }) },
  {
    operation: 'list',
    status: 200,
    code: 'OK',
    label: 'COMPLETED, with fields_set',
    request: () => ({
      query: { token: DEMO_TOKEN, life_cycle_state: 'COMPLETED', fields_set: 'id,number,reference_number' },
    }),
  },
  {
    operation: 'list',
    status: 200,
    code: 'OK',
    label: 'every filter at once, and paging',
    request: () => ({
      query: {
        token: DEMO_TOKEN,
        life_cycle_state: 'PENDING',
        priority: 'REGULAR',
        subscription_identifier: `number=${KNOWN_CARD.subscription}`,
        smartcard_identifier: `serial_number=${KNOWN_CARD.serial}`,
        created_date_from: '2020-01-01',
        created_date_to: tomorrow(),
        number_of_results: '5',
        offset: '0',
      },
    }),
  },
  {
    operation: 'list',
    status: 200,
    code: 'OK',
    label: 'an unknown subscription (an empty list)',
    request: () => ({ query: { token: DEMO_TOKEN, subscription_identifier: 'number=S00000' } }),
  },
  {
    operation: 'list',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'offset given twice',
    request: () => ({ query: { token: DEMO_TOKEN, offset: ['0', '1'] } }),
  },
  {
    operation: 'list',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown parameter',
    request: () => ({ query: { token: DEMO_TOKEN, state: 'PENDING' } }),
  },
  {
    operation: 'list',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'an identifier without its field',
    request: () => ({ query: { token: DEMO_TOKEN, smartcard_identifier: KNOWN_CARD.serial } }),
  },
  {
    operation: 'list',
    status: 400,
    code: 'INVALID_DATE',
    label: 'a date before 1970',
    request: () => ({ query: { token: DEMO_TOKEN, created_date_from: '1969-12-31' } }),
  },
  {
    operation: 'list',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'number_of_results 51',
    request: () => ({ query: { token: DEMO_TOKEN, number_of_results: '51' } }),
  },
  {
    operation: 'list',
    status: 401,
    code: 'INVALID_TOKEN',
    label: 'an unknown token',
    request: () => ({ query: { token: UNKNOWN_TOKEN } }),
  },
  {
    operation: 'list',
    status: 500,
    code: 'INTERNAL_ERROR',
    label: 'a stored request that cannot be read',
    request: () => ({ query: { token: ctx.otherToken } }),
  },

  // cancel
  {
    operation: 'cancel',
    status: 200,
    code: 'OK',
    label: 'by id',
    request: () => ({ body: cancelBody({ id: ctx.toCancelById.id }) }),
  },
  {
    operation: 'cancel',
    status: 200,
    code: 'OK',
    label: 'by number',
    request: () => ({ body: cancelBody({ number: ctx.toCancelByNumber.number }) }),
  },
  { operation: 'cancel', status: 400, code: 'INVALID_REQUEST', label: 'not JSON', request: () => ({ raw: '{' }) },
  {
    operation: 'cancel',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'a number of the wrong type',
    request: () => ({ body: { token: DEMO_TOKEN, provisioning_request_identifier: { number: 1 } } }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'INVALID_REQUEST',
    label: 'not UTF-8',
    request: () => ({ bytes: notUtf8(cancelBody({ number: '1' })) }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'MISSING_PARAMETER',
    label: 'no identifier',
    request: () => ({ body: { token: DEMO_TOKEN } }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'UNKNOWN_PARAMETER',
    label: 'an unknown field',
    request: () => ({ body: { ...cancelBody({ number: '1' }), reason: 'typo' } }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'two identifier fields',
    request: () => ({ body: cancelBody({ id: ctx.pending.id, number: ctx.pending.number }) }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'INVALID_IDENTIFIER',
    label: 'an identifier with no field',
    request: () => ({ body: cancelBody({}) }),
  },
  {
    operation: 'cancel',
    status: 400,
    code: 'INVALID_VALUE',
    label: 'a number of 257 characters',
    request: () => ({ body: cancelBody({ number: '1'.repeat(257) }) }),
  },
  {
    operation: 'cancel',
    status: 401,
    code: 'INVALID_TOKEN',
    label: 'an unknown token',
    request: () => ({ body: cancelBody({ number: '1' }, UNKNOWN_TOKEN) }),
  },
  {
    operation: 'cancel',
    status: 404,
    code: 'PROVISIONING_REQUEST_NOT_FOUND',
    label: 'an unknown id',
    request: () => ({ body: cancelBody({ id: UNKNOWN_ID }) }),
  },
  {
    operation: 'cancel',
    status: 409,
    code: 'REQUEST_IN_PROGRESS',
    label: 'a request a worker has claimed',
    request: () => ({ body: cancelBody({ id: ctx.claimed.id }) }),
  },
  {
    operation: 'cancel',
    status: 409,
    code: 'REQUEST_ALREADY_FINAL',
    label: 'a cancelled request',
    request: () => ({ body: cancelBody({ id: ctx.cancelled.id }) }),
  },
  {
    operation: 'cancel',
    status: 413,
    code: 'PAYLOAD_TOO_LARGE',
    label: 'a body one byte over 16 KiB',
    request: () => ({ raw: padded(cancelBody({ number: '1' }), MAX_BODY_BYTES + 1) }),
  },
  {
    operation: 'cancel',
    status: 415,
    code: 'UNSUPPORTED_MEDIA_TYPE',
    label: 'text/plain',
    request: () => ({ body: cancelBody({ number: '1' }), headers: { 'Content-Type': 'text/plain' } }),
  },

  // every route while DynamoDB is down
  ...(
    [
      ['login', () => ({ body: DEMO_LOGIN })],
      ['release', () => ({ body: { token: DEMO_TOKEN } })],
      ['clearPin', () => ({ body: seedBody() })],
      ['show', () => ({ query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.pending.id}` } })],
      ['list', () => ({ query: { token: DEMO_TOKEN } })],
      ['cancel', () => ({ body: cancelBody({ id: ctx.pending.id }) })],
    ] as const
  ).map(
    ([operation, request]): Case => ({
      operation,
      status: 503,
      code: 'SERVICE_UNAVAILABLE',
      label: 'DynamoDB down',
      request,
      outage: true,
    }),
  ),
];

/**
 * The answers the document lists that no test here provokes, each with the reason. Keyed `operation code`, or
 * `code` for every operation.
 */
const NOT_PROVOKED: Record<string, string> = {
  TOO_MANY_REQUESTS:
    "API Gateway's stage throttling: the local front has none (test/infra checks the gateway response)",
  'login INTERNAL_ERROR': 'no client input reaches a bug, and login reads no stored request a test could corrupt',
  'release INTERNAL_ERROR': 'likewise',
  'clearPin INTERNAL_ERROR': 'likewise',
  'cancel INTERNAL_ERROR':
    "a corrupt stored request would do it, but its cancel leaves an event the processing run's sweep cannot build",
  'list MISSING_PARAMETER': 'the only required parameter is the token, which is judged first (INVALID_TOKEN)',
};

const caseName = (c: Case) => `${c.operation} ${c.status} ${c.code}: ${c.label}`;

/** Asserts the answer of a case: its status and code, the document's response, and the request's agreement. */
const checkCase = async (c: Case) => {
  const operation = OPERATIONS[c.operation];
  const sent = c.request();
  const reply = await send(operation, sent);
  expect({ status: reply.status, code: reply.body?.status?.code }, reply.text.slice(0, 300)).toEqual({
    status: c.status,
    code: c.code,
  });
  expect(responseProblems(operation, reply)).toEqual([]);

  const json = jsonSent(sent);
  const parameters = parameterProblems(operation, { query: sent.query, headers: sent.headers });
  if (c.status === 200) {
    // What the service takes, the document takes.
    if (operation.method === 'POST') expect(requestBodyProblems(operation, json)).toEqual([]);
    expect(parameters).toEqual([]);
  } else if (STRUCTURAL.has(c.code)) {
    // What the service refuses for its structure, the document refuses too.
    if (operation.method === 'POST' && json !== undefined) {
      expect(requestBodyProblems(operation, json)).not.toEqual([]);
    }
    if (operation.method === 'GET' && c.code !== 'INVALID_IDENTIFIER') expect(parameters).not.toEqual([]);
  } else if (c.refusesHeader) {
    expect(parameters).not.toEqual([]);
  }
  return reply;
};

beforeAll(async () => {
  const api = stack();
  const later = { scheduled_date: tomorrow() };
  [ctx.pending, ctx.toCancelById, ctx.toCancelByNumber, ctx.cancelled, ctx.claimed] = await Promise.all([
    createRequest(api, KNOWN_CARD, later),
    createRequest(api, KNOWN_CARD, later),
    createRequest(api, KNOWN_CARD, later),
    createRequest(api, KNOWN_CARD, later),
    createRequest(api, KNOWN_CARD, later),
  ]);
  ctx.completed = await createRequest(api, KNOWN_CARD, { process_immediately: true });
  ctx.rejected = await createRequest(api, UNKNOWN_CARD, { process_immediately: true });
  const cancelled = await postJson(api, OPERATIONS.cancel.path, cancelBody({ id: ctx.cancelled.id }));
  expect(cancelled.status, cancelled.text).toBe(200);
  // A worker's claim as the worker writes it (a claim id and a lease): the request stays PENDING to clients.
  await api.document.send(
    new UpdateCommand({
      TableName: api.tableName,
      Key: { pk: `REQ#${ctx.claimed.id}` },
      UpdateExpression: 'SET claimId = :claim, leaseUntil = :lease',
      ExpressionAttributeValues: { ':claim': 'conformance-claim', ':lease': tomorrow() },
    }),
  );
  const first = await postJson(api, OPERATIONS.clearPin.path, seedBody(), { 'Idempotency-Key': 'conformance-first' });
  expect(first.status, first.text).toBe(200);
  // A record under the id the key's request gets that cannot be read back as this user's request: what a create
  // sees while the first create with the key is still being written (functions/use-cases/create-clear-pin.ts).
  const demoUserId = DEMO_ORGANISATION.users.find((u) => u.username === DEMO_LOGIN.username)?.id as string;
  await api.document.send(
    new PutCommand({
      TableName: api.tableName,
      Item: {
        pk: `REQ#${derivedId('clear-pin', DEMO_ORGANISATION.name, demoUserId, KEY_IN_PROGRESS)}`,
        organisation: 'BEING-WRITTEN',
      },
    }),
  );
  for (let i = 0; i < 10; i++) {
    const attempt = await login(api, { username: LOCKED_USERNAME, password: 'wrong' });
    if (attempt.status === 429) break;
  }
  ctx.releasable = tokenIn(await login(api));
  ctx.otherToken = tokenIn(await login(api, OTHER_LOGIN));
  // In the second organisation, so the first's lists stay readable: a request whose creation date is not a date.
  const good = ctx.pending as unknown as { parameters_set: unknown; log_information: Record<string, unknown> };
  await api.document.send(
    new PutCommand({
      TableName: api.tableName,
      Item: unreadableRequestItem(CORRUPT_ID, OTHER_LOGIN.organisation, '900001', good, {
        creationKey: `${OTHER_LOGIN.organisation}#REGULAR`,
        listKey: `${OTHER_LOGIN.organisation}#PENDING#REGULAR`,
        listSort: 'yesterday#00000000000000900001',
      }),
    }),
  );
  await waitUntilFinal(api, [ctx.completed.id, ctx.rejected.id], 30_000);
});

describe('every route answers as the document declares', () => {
  it.each(CASES.filter((c) => !c.outage).map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    await checkCase(c);
  });
});

describe('the cases cover what the document lists', () => {
  /** The codes a response object of the document allows (OK for a success). */
  const codesOf = (response: unknown): string[] => {
    const schema = (response as { content?: Record<string, { schema?: Record<string, unknown> }> }).content?.[
      'application/json'
    ]?.schema as { properties?: { status?: { properties?: { code?: { enum?: string[] } } } } } | undefined;
    return schema?.properties?.status?.properties?.code?.enum ?? ['OK'];
  };

  it('each status and code of each operation is provoked above, or its reason is given', () => {
    const missing: string[] = [];
    for (const [name, operation] of Object.entries(OPERATIONS)) {
      const declared = OPENAPI.paths[operation.path]?.[operation.method.toLowerCase()];
      expect(declared, `${operation.method} ${operation.path}`).toBeDefined();
      for (const [status, response] of Object.entries(declared?.responses ?? {})) {
        for (const code of codesOf(response)) {
          const provoked = CASES.some((c) => c.operation === name && String(c.status) === status && c.code === code);
          if (!provoked && !NOT_PROVOKED[`${name} ${code}`] && !NOT_PROVOKED[code]) {
            missing.push(`${name} ${status} ${code}`);
          }
        }
      }
    }
    expect(missing).toEqual([]);
  });

  it('every case is an answer the document declares for its operation', () => {
    const undeclared = CASES.filter((c) => {
      const operation = OPERATIONS[c.operation];
      const response = OPENAPI.paths[operation.path]?.[operation.method.toLowerCase()]?.responses[String(c.status)];
      return response === undefined || !codesOf(response).includes(c.code);
    }).map(caseName);
    expect(undeclared).toEqual([]);
  });
});

/** Any method, with a JSON body when one is given. */
const postJsonAs = async (method: string, path: string, body: string | undefined): Promise<Reply> => {
  const response = await fetch(`${stack().apiUrl}${path}`, {
    method,
    headers: body === undefined ? {} : { 'content-type': 'application/json' },
    body,
  });
  const text = await response.text();
  let parsed: Reply['body'];
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: response.status, headers: response.headers, text, body: parsed };
};

describe('unknown routes answer components.responses.NotFound', () => {
  const OTHER: [string, string][] = [
    ['GET', '/'],
    ['GET', '/nope'],
    ['POST', '/authentication'],
    ['POST', '/provisioning/provisioning_requests/update'],
    ['GET', '/Provisioning/Provisioning_Requests/List'],
    ['GET', OPERATIONS.login.path],
    ['PUT', OPERATIONS.login.path],
    ['DELETE', OPERATIONS.release.path],
    ['GET', OPERATIONS.clearPin.path],
    ['PATCH', OPERATIONS.clearPin.path],
    ['POST', OPERATIONS.show.path],
    ['DELETE', OPERATIONS.list.path],
    ['GET', OPERATIONS.cancel.path],
    ['OPTIONS', OPERATIONS.cancel.path],
  ];

  it.each(OTHER)('%s %s', async (method, path) => {
    // Not an operation of the document, so the document's answer for it is NotFound.
    expect(OPENAPI.paths[path]?.[method.toLowerCase()]).toBeUndefined();
    const body = method === 'GET' ? undefined : JSON.stringify(seedBody());
    const reply = await postJsonAs(method, path, body);
    expect(reply.body?.status.code, reply.text).toBe('NOT_FOUND');
    expect(notFoundProblems(reply)).toEqual([]);
  });
});

describe('the validator can fail (negative controls)', () => {
  let shown: Reply;
  beforeAll(async () => {
    shown = await send(OPERATIONS.show, {
      query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.completed.id}` },
    });
    expect(responseProblems(OPERATIONS.show, shown)).toEqual([]);
  });

  /** The same reply with its body or headers changed. */
  const altered = (change: { body?: (b: Record<string, unknown>) => unknown; headers?: (h: Headers) => void }) => {
    const body = JSON.parse(shown.text);
    const headers = new Headers(shown.headers);
    change.headers?.(headers);
    const text = JSON.stringify(change.body ? change.body(body) : body);
    return { ...shown, headers, text, body: JSON.parse(text) };
  };
  const data = (b: Record<string, unknown>) => b.data as Record<string, unknown>;

  it.each([
    [
      'a field the document does not have',
      { body: (b: Record<string, unknown>) => ({ ...b, data: { ...data(b), pin: '0000' } }) },
    ],
    [
      'a wrong type',
      { body: (b: Record<string, unknown>) => ({ ...b, data: { ...data(b), process_immediately: true } }) },
    ],
    [
      'an unknown state',
      { body: (b: Record<string, unknown>) => ({ ...b, data: { ...data(b), life_cycle_state: 'SENT' } }) },
    ],
    [
      'a status code other than OK',
      { body: (b: Record<string, unknown>) => ({ ...b, status: { code: 'DONE', message: '', description: '' } }) },
    ],
    ['no Cache-Control', { headers: (h: Headers) => h.delete('cache-control') }],
    ['Cache-Control: private', { headers: (h: Headers) => h.set('cache-control', 'private') }],
    ['a text content type', { headers: (h: Headers) => h.set('content-type', 'text/plain') }],
  ])('%s is found', (_label, change) => {
    expect(responseProblems(OPERATIONS.show, altered(change))).not.toEqual([]);
  });

  it('a field missing is found where the whole request is answered (cancel; show may narrow it with fields_set)', () => {
    const withoutNumber = altered({ body: (b) => ({ ...b, data: { ...data(b), number: undefined } }) });
    expect(responseProblems(OPERATIONS.cancel, altered({}))).toEqual([]);
    expect(responseProblems(OPERATIONS.cancel, withoutNumber)).not.toEqual([]);
  });

  it('a status the operation does not declare is found', () => {
    expect(responseProblems(OPERATIONS.list, { ...shown, status: 404 })).not.toEqual([]);
  });

  it('a 429 without Retry-After, or with a date for it, is found', async () => {
    const locked = await send(OPERATIONS.login, { body: { ...DEMO_LOGIN, username: LOCKED_USERNAME } });
    expect(responseProblems(OPERATIONS.login, locked)).toEqual([]);
    const without = new Headers(locked.headers);
    without.delete('retry-after');
    expect(responseProblems(OPERATIONS.login, { ...locked, headers: without })).not.toEqual([]);
    const dated = new Headers(locked.headers);
    dated.set('retry-after', 'Wed, 21 Oct 2015 07:28:00 GMT');
    expect(responseProblems(OPERATIONS.login, { ...locked, headers: dated })).not.toEqual([]);
  });

  it('an error code of another status is found', async () => {
    const missing = await send(OPERATIONS.show, {
      query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${UNKNOWN_ID}` },
    });
    const body = { ...missing.body, status: { ...missing.body?.status, code: 'INVALID_TOKEN' } };
    expect(responseProblems(OPERATIONS.show, { ...missing, text: JSON.stringify(body) })).not.toEqual([]);
  });
});

describe('the document states what SPEC fixes', () => {
  let shown: Reply;
  beforeAll(async () => {
    shown = await send(OPERATIONS.show, {
      query: { token: DEMO_TOKEN, provisioning_request_identifier: `id=${ctx.completed.id}` },
    });
  });

  /** The show reply with `data` changed. */
  const withData = (change: Record<string, unknown>): Reply => {
    const body = JSON.parse(shown.text);
    return { ...shown, text: JSON.stringify({ ...body, data: { ...body.data, ...change } }) };
  };

  // SPEC §2 and §2.5, restated on purpose: date-times `YYYY-MM-DDTHH:MM:SS` with a four-digit year.
  it('a date-time with a three-digit year is not a ProvisioningRequest', () => {
    expect(responseProblems(OPERATIONS.show, withData({ scheduled_date: '999-01-01T00:00:00' }))).not.toEqual([]);
  });

  // SPEC §2, restated on purpose: ids are 32 uppercase hex characters.
  it('an id that is not 32 uppercase hex is not a ProvisioningRequest', () => {
    const id = JSON.parse(shown.text).data.id as string;
    expect(responseProblems(OPERATIONS.show, withData({ id: id.toLowerCase() }))).not.toEqual([]);
  });

  // SPEC §2.1, restated on purpose: the token is 32 hex characters (README: uppercase, as CRM.COM writes them).
  it('a token that is not 32 hex is not TokenData', async () => {
    const reply = await send(OPERATIONS.login, { body: DEMO_LOGIN });
    expect(responseProblems(OPERATIONS.login, reply)).toEqual([]);
    const short = { ...reply, text: JSON.stringify({ ...reply.body, data: { token: 'not-a-token' } }) };
    expect(responseProblems(OPERATIONS.login, short)).not.toEqual([]);
  });

  it('a query identifier without its field (id=… or number=…) is not a valid parameter', () => {
    // The service refuses it as INVALID_IDENTIFIER (see the cases above); the document should say so.
    expect(
      parameterProblems(OPERATIONS.show, { query: { token: DEMO_TOKEN, provisioning_request_identifier: '42' } }),
    ).not.toEqual([]);
  });
});

describe('while DynamoDB is down, every route answers 503 as declared', () => {
  beforeAll(async () => {
    await stack().interruptDynamo();
  });
  afterAll(async () => {
    await stack().resumeDynamo();
  });

  it.each(CASES.filter((c) => c.outage).map((c) => [caseName(c), c] as const))('%s', async (_name, c) => {
    const reply = await checkCase(c);
    expect(reply.headers.get('retry-after')).toMatch(/^[1-9]\d*$/);
  });
});
