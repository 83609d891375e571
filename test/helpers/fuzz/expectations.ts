import { DEMO_LOGIN, DEMO_SUBSCRIPTIONS, DEMO_TOKEN, DEMO_UNIT_ID } from '../demo.ts';
import { type Reply, ROUTES } from '../http.ts';
import { envelopeProblems } from '../oracle.ts';
import { SEED_DATA } from '../seed.ts';

/**
 * The fuzz oracle: what SPEC §2 and the demo data say each input must be answered with, written from them and not
 * from the implementation. The limits, field lists and date verdicts below restate SPEC on purpose.
 */

/** A body sent as text, with the content type and Idempotency-Key it travels with. */
export type BodyInput = { body: string; contentType: string | undefined; json: boolean; idempotencyKey?: string };

/** A show query string. */
export type ShowInput = { query: string };

/** SPEC §2.5, restated on purpose: the body limit. */
export const BODY_LIMIT = 16 * 1024;

/** SPEC §2.3, restated on purpose: the fields of a create and of a login. */
export const CREATE_FIELDS = [
  'token',
  'subscription_identifier',
  'smartcard_identifier',
  'process_immediately',
  'scheduled_date',
  'priority',
] as const;

export const LOGIN_FIELDS = ['username', 'password', 'organisation', 'organization', 'unit'] as const;

/** The fields of CRM.COM's provisioning request (SPEC §2.3): the seed example's, the only names `fields_set` may list. */
export const CRM_FIELDS = Object.keys(SEED_DATA);

const pad = (n: number) => String(n).padStart(2, '0');
const dateOnly = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())}`;
const localDateTime = (d: Date) =>
  `${dateOnly(d)}T${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
const daysFromNow = (days: number) => new Date(Date.now() + days * 24 * 3600 * 1000);

/** scheduled_date values whose verdict SPEC §2.3 settles (operator zone UTC in the local stack). */
export const GOOD_DATES = [
  dateOnly(daysFromNow(0)),
  dateOnly(daysFromNow(-400)),
  localDateTime(daysFromNow(1)),
  localDateTime(daysFromNow(360)),
  `${localDateTime(daysFromNow(30))}Z`,
  daysFromNow(2).toISOString(),
  `${localDateTime(daysFromNow(2))}+02:00`,
  `${localDateTime(daysFromNow(2))}-05:30`,
  '2020-02-29T12:00:00',
  '2000-01-01',
];
export const BAD_DATES = [
  '',
  'tomorrow',
  'now',
  '2026-02-30',
  '2025-13-01',
  '2025-01-01T24:00:00',
  '2025-1-1',
  '01/02/2026',
  '2025-01-01 10:00:00',
  dateOnly(daysFromNow(400)),
  localDateTime(daysFromNow(367)),
  '9999-12-31T23:59:59Z',
  '2025-01-01T10:00:00+25:00',
  '2025-02-29',
  '2025-01-01T10:00:00.123',
];
const GOOD_DATE_SET = new Set(GOOD_DATES);
const BAD_DATE_SET = new Set(BAD_DATES);

/** SPEC §2.3: 1–128 printable characters (HTTP itself trims spaces around a header value). */
const IDEMPOTENCY_KEY = /^[\x20-\x7E]{1,128}$/;

/** Subscription number/id → subscription id; item id/serial/alternative code → item and owner. */
const subscriptionByKey = new Map<string, string>();
const itemByKey = new Map<string, { owner: string; clearPinAllowed: boolean }>();
for (const subscription of DEMO_SUBSCRIPTIONS) {
  subscriptionByKey.set(`id=${subscription.id}`, subscription.id);
  subscriptionByKey.set(`number=${subscription.number}`, subscription.id);
  for (const item of subscription.installed_items) {
    const entry = {
      owner: subscription.id,
      clearPinAllowed: item.classification === 'SMARTCARD' && item.provisioning_provider === 'NAGRAVISION',
    };
    itemByKey.set(`id=${item.id}`, entry);
    itemByKey.set(`serial_number=${item.serial_number}`, entry);
    if (item.alternative_code) itemByKey.set(`alternative_code=${item.alternative_code}`, entry);
  }
}

/** What a reply may be: the statuses allowed and, when SPEC settles it, the exact code. */
export type Expectation = { statuses: number[]; code?: string; why: string };

const isPlainObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

/** SPEC §2.5's first check: size, media type, a JSON object. Answers the parsed object or the expectation. */
const judgeBody = (
  input: BodyInput,
): { object: Record<string, unknown>; expected?: undefined } | { object?: undefined; expected: Expectation } => {
  if (Buffer.byteLength(input.body) > BODY_LIMIT) {
    return { expected: { statuses: [413], code: 'PAYLOAD_TOO_LARGE', why: 'body over 16 KiB' } };
  }
  if (!input.json) {
    return { expected: { statuses: [415], code: 'UNSUPPORTED_MEDIA_TYPE', why: 'not a JSON content type' } };
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(input.body);
  } catch {
    return { expected: { statuses: [400], code: 'INVALID_REQUEST', why: 'not JSON' } };
  }
  if (!isPlainObject(parsed)) {
    return { expected: { statuses: [400], code: 'INVALID_REQUEST', why: 'not a JSON object' } };
  }
  return { object: parsed };
};

/** The identifier object of SPEC §2.3: exactly one of its fields, a non-empty string. */
const identifierKey = (value: unknown, fields: readonly string[]): string | 'invalid' => {
  if (!isPlainObject(value)) return 'invalid';
  const keys = Object.keys(value);
  if (keys.length !== 1 || !fields.includes(keys[0] as string)) return 'invalid';
  const given = value[keys[0] as string];
  if (typeof given !== 'string' || given === '') return 'invalid';
  return `${keys[0]}=${given}`;
};

const tokenIsLive = (token: unknown) => typeof token === 'string' && token.toUpperCase() === DEMO_TOKEN;

export const expectCreate = (input: BodyInput): Expectation => {
  const { object: parsed, expected } = judgeBody(input);
  if (expected) return expected;
  if (!tokenIsLive(parsed.token)) return { statuses: [401], code: 'INVALID_TOKEN', why: 'no live token' };
  if (input.idempotencyKey !== undefined && !IDEMPOTENCY_KEY.test(input.idempotencyKey)) {
    return { statuses: [400], code: 'INVALID_VALUE', why: 'an Idempotency-Key that is not 1–128 printable characters' };
  }
  const reuse = input.idempotencyKey === undefined ? [] : [409];
  const unknown = Object.keys(parsed).filter((k) => !(CREATE_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const refused: Expectation = { statuses: [400, 404, 422, ...reuse], why: 'an invalid field or look-up' };
  const subscription = identifierKey(parsed.subscription_identifier, ['id', 'number']);
  const item = identifierKey(parsed.smartcard_identifier, ['id', 'serial_number', 'alternative_code']);
  if (subscription === 'invalid' || item === 'invalid') return refused;
  const pi = parsed.process_immediately;
  if (pi !== undefined && ![true, false, 1, 0, 'true', 'false'].includes(pi as never)) return refused;
  const priority = parsed.priority;
  if (priority !== undefined && priority !== 'REGULAR' && priority !== 'EXPRESS') return refused;
  const date = parsed.scheduled_date;
  let dateKnown = true;
  if (date !== undefined) {
    if (typeof date !== 'string' || BAD_DATE_SET.has(date)) return refused;
    dateKnown = GOOD_DATE_SET.has(date);
  }
  const owner = subscriptionByKey.get(subscription);
  const found = itemByKey.get(item);
  if (owner === undefined || found === undefined || found.owner !== owner || !found.clearPinAllowed) return refused;
  if (!dateKnown) return { statuses: [200, 400, ...reuse], why: 'a valid body with an unclassified date' };
  return { statuses: [200, ...reuse], why: 'a valid create' };
};

export const expectLogin = (input: BodyInput): Expectation => {
  const { object: parsed, expected } = judgeBody(input);
  if (expected) return expected;
  const unknown = Object.keys(parsed).filter((k) => !(LOGIN_FIELDS as readonly string[]).includes(k));
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const { username, password, organisation, organization, unit } = parsed;
  const strings = [username, password];
  if (strings.some((s) => typeof s !== 'string'))
    return { statuses: [400], why: 'username/password missing or not strings' };
  if ([organisation, organization, unit].some((s) => s !== undefined && typeof s !== 'string')) {
    return { statuses: [400], why: 'a field of the wrong type' };
  }
  if (organisation === undefined && organization === undefined) return { statuses: [400], why: 'no organisation' };
  if (organisation !== undefined && organization !== undefined && organisation !== organization) {
    return { statuses: [400], why: 'organisation and organization differ' };
  }
  const org = organisation ?? organization;
  // Lengths SPEC does not bound may be refused as invalid values, or just fail the login.
  const odd = [username, password, org, unit].some((s) => typeof s === 'string' && (s === '' || s.length > 256));
  const right =
    username === DEMO_LOGIN.username &&
    password === DEMO_LOGIN.password &&
    org === DEMO_LOGIN.organisation &&
    (unit === undefined || unit === DEMO_UNIT_ID);
  if (right) return { statuses: [200, 429], why: 'the right credentials (or locked out by earlier inputs)' };
  return { statuses: odd ? [400, 401, 429] : [401, 429], why: 'wrong credentials' };
};

/**
 * Judged on the parameters as the front will see them (parsed by the same WHATWG URL rules fetch applies); a
 * parameter given twice is refused before the token (README, API decisions).
 */
export const expectShow = (
  apiUrl: string,
  input: ShowInput,
  known: { ids: string[]; numbers: string[] },
): Expectation => {
  const params = new URL(`${apiUrl}${ROUTES.show}?${input.query}`).searchParams;
  const given = new Map<string, string>();
  for (const [name, value] of params) {
    if (given.has(name)) return { statuses: [400], code: 'INVALID_REQUEST', why: `${name} given more than once` };
    given.set(name, value);
  }
  if (!tokenIsLive(given.get('token'))) return { statuses: [401], code: 'INVALID_TOKEN', why: 'no live token' };
  const unknown = [...given.keys()].filter(
    (k) => !['token', 'provisioning_request_identifier', 'fields_set'].includes(k),
  );
  if (unknown.length > 0) return { statuses: [400], code: 'UNKNOWN_PARAMETER', why: `unknown ${unknown[0]}` };
  const fields = given.get('fields_set');
  if (fields?.split(',').some((f) => !(CRM_FIELDS as readonly string[]).includes(f.trim()))) {
    return { statuses: [400], why: 'fields_set names a field that does not exist' };
  }
  const identifier = given.get('provisioning_request_identifier');
  if (identifier === undefined) return { statuses: [400], code: 'MISSING_PARAMETER', why: 'no identifier' };
  const match = /^(id|number)=([\s\S]+)$/.exec(identifier);
  if (!match) return { statuses: [400], why: 'a malformed identifier' };
  const [, field, value] = match as unknown as [string, string, string];
  const found = field === 'id' ? known.ids.includes(value) : known.numbers.includes(value);
  if (found) return { statuses: [200], why: 'a known request' };
  if (identifier.length > 256) return { statuses: [400, 404], why: 'an overlong identifier' };
  return { statuses: [404], code: 'PROVISIONING_REQUEST_NOT_FOUND', why: 'an unknown request' };
};

/** Problems of one reply against its expectation and the envelope rules (an empty list when it is right). */
export const judge = (reply: Reply, expected: Expectation): string[] => {
  const problems = envelopeProblems(reply);
  if (reply.status >= 500) problems.push(`HTTP ${reply.status}`);
  if (!expected.statuses.includes(reply.status)) {
    problems.push(
      `HTTP ${reply.status} ${reply.body?.status.code}, expected ${expected.statuses.join('/')} (${expected.why})`,
    );
  } else if (expected.code !== undefined && reply.body?.status.code !== expected.code) {
    problems.push(`code ${reply.body?.status.code}, expected ${expected.code} (${expected.why})`);
  }
  return problems;
};
