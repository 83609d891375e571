import fc from 'fast-check';
import { CARDS, DEMO_DATA, DEMO_LOGIN, DEMO_TOKEN, DEMO_UNIT_ID, KNOWN_CARD } from '../demo.ts';
import {
  BAD_DATES,
  BODY_LIMIT,
  type BodyInput,
  CREATE_FIELDS,
  CRM_FIELDS,
  GOOD_DATES,
  LOGIN_FIELDS,
  type ShowInput,
} from './expectations.ts';

/**
 * Fuzz inputs (fast-check), generated as raw JSON text, so `__proto__` keys, duplicate keys, lone surrogates and
 * numbers out of range reach the service exactly as a hostile client would send them.
 */

/** Subscription and smartcard identifiers that belong together (a clear-PIN the service must accept). */
const MATCHED_PAIRS: [string, string][] = CARDS.flatMap((card) =>
  [{ number: card.subscription }, { id: card.subscriptionId }].flatMap((sub) =>
    [
      { serial_number: card.serial },
      { id: card.itemId },
      ...(card.alternativeCode ? [{ alternative_code: card.alternativeCode }] : []),
    ].map((item): [string, string] => [JSON.stringify(sub), JSON.stringify(item)]),
  ),
);

/** Every identifier of the file, other organisations' included: those the oracle expects refused. */
const ALL_SUBSCRIPTIONS = DEMO_DATA.organisations.flatMap((o) => o.subscriptions);
const SUBSCRIPTION_IDENTIFIERS: Record<string, string>[] = ALL_SUBSCRIPTIONS.flatMap((s): Record<string, string>[] => [
  { number: s.number },
  { id: s.id },
]);
const ITEM_IDENTIFIERS: Record<string, string>[] = ALL_SUBSCRIPTIONS.flatMap((s) =>
  s.installed_items.flatMap((i): Record<string, string>[] => [
    { serial_number: i.serial_number },
    { id: i.id },
    ...(i.alternative_code ? [{ alternative_code: i.alternative_code }] : []),
  ]),
);

/** JSON texts of every wrong type, plus numbers JSON can write but JavaScript cannot hold exactly. */
const WRONG_TYPE_TEXTS = [
  '0',
  '1',
  '-1',
  '2',
  '1e999',
  '-1e999',
  '-0',
  '3.14',
  '123456789012345678901234567890',
  'true',
  'false',
  'null',
  '[]',
  '{}',
  '[1,"a"]',
  '{"a":{"b":[null]}}',
  '""',
];

const SUBSCRIPTION = KNOWN_CARD.subscription;

const NASTY_STRINGS = [
  '',
  ' ',
  '\u0000',
  `\u0000${DEMO_TOKEN}`,
  '\ud800',
  '\udfff\ud800',
  `\u202e${SUBSCRIPTION}`,
  `\ufeff${SUBSCRIPTION}`,
  `${SUBSCRIPTION}\n`,
  ` ${SUBSCRIPTION}`,
  SUBSCRIPTION.toLowerCase(),
  `${SUBSCRIPTION}\u0000`,
  // Look-alikes of a subscription number in other Unicode blocks.
  '𝕊𝟞𝟘𝟝𝟘𝟟',
  'Ｓ６０５０７',
  'ß',
  'İ',
  'ﬀ',
  "' OR '1'='1",
  '"; DROP TABLE requests; --',
  // biome-ignore lint/suspicious/noTemplateCurlyInString: a Log4Shell probe, sent as it is on purpose
  '${jndi:ldap://x/a}',
  '{{7*7}}',
  '../../etc/passwd',
  '%00',
  '%s%s%s%n',
  'null',
  'undefined',
  'NaN',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  'REQ#1',
  'TOKEN#x',
  'a'.repeat(256),
  'a'.repeat(257),
];

/** Strings of every kind: control characters, any code point, graphemes, nasty constants and huge ones. */
const anyString = fc.oneof(
  { arbitrary: fc.constantFrom(...NASTY_STRINGS), weight: 4 },
  { arbitrary: fc.string({ unit: 'binary', maxLength: 40 }), weight: 3 },
  { arbitrary: fc.string({ unit: 'grapheme', maxLength: 30 }), weight: 2 },
  { arbitrary: fc.string({ unit: 'binary-ascii', maxLength: 40 }), weight: 2 },
  { arbitrary: fc.integer({ min: 300, max: 20_000 }).map((n) => 'x'.repeat(n)), weight: 1 },
);

const wrongTypeText = fc.constantFrom(...WRONG_TYPE_TEXTS);
const deepText = fc
  .tuple(fc.integer({ min: 2, max: 9000 }), fc.boolean())
  .map(([depth, array]) =>
    array ? '['.repeat(depth) + ']'.repeat(depth) : `${'{"a":'.repeat(depth)}1${'}'.repeat(depth)}`,
  );
const anyValueText = fc.oneof(
  { arbitrary: anyString.map((s) => JSON.stringify(s)), weight: 3 },
  { arbitrary: wrongTypeText, weight: 3 },
  { arbitrary: fc.jsonValue({ maxDepth: 3 }).map((v) => JSON.stringify(v)), weight: 2 },
  { arbitrary: deepText, weight: 1 },
);

/** Keys no method takes, prototype names first. */
const PROTOTYPE_KEYS = [
  '__proto__',
  'constructor',
  'prototype',
  'toString',
  'hasOwnProperty',
  'valueOf',
  '__defineGetter__',
];
const extraKey = (allowed: readonly string[]) =>
  fc
    .oneof(
      { arbitrary: fc.constantFrom(...PROTOTYPE_KEYS), weight: 3 },
      {
        arbitrary: fc.constantFrom('process_immediatelly', 'Token', 'TOKEN', 'token ', 'organisation_id', 'id'),
        weight: 2,
      },
      { arbitrary: fc.string({ unit: 'grapheme', minLength: 1, maxLength: 12 }), weight: 2 },
    )
    .filter((key) => !allowed.includes(key));

/** A JSON object written as text: keys kept as given (`__proto__` stays a key, duplicates stay duplicates). */
const objectText = (entries: readonly (readonly [string, string])[]) =>
  `{${entries.map(([key, value]) => `${JSON.stringify(key)}:${value}`).join(',')}}`;

/** An entry present most of the time, absent sometimes. */
const maybe = (key: string, value: fc.Arbitrary<string>, absentOneIn = 8) =>
  fc.option(
    value.map((text) => [key, text] as const),
    { nil: undefined, freq: absentOneIn },
  );

const extras = (allowed: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constant([] as (readonly [string, string])[]), weight: 6 },
    { arbitrary: fc.array(fc.tuple(extraKey(allowed), anyValueText), { minLength: 1, maxLength: 2 }), weight: 1 },
  );

const identifierText = (valid: Record<string, string>[], fields: readonly string[]) =>
  fc.oneof(
    { arbitrary: fc.constantFrom(...valid).map((v) => JSON.stringify(v)), weight: 8 },
    {
      // Zero, one or several of the fields, with values of any kind, and sometimes a key that is not a field.
      arbitrary: fc
        .tuple(
          fc.subarray([...fields]),
          fc.array(
            fc.oneof(
              anyString.map((s) => JSON.stringify(s)),
              wrongTypeText,
            ),
            {
              minLength: fields.length,
              maxLength: fields.length,
            },
          ),
          fc.option(fc.tuple(extraKey(fields), anyValueText), { freq: 3 }),
        )
        .map(([chosen, values, extra]) =>
          objectText([...chosen.map((field, i) => [field, values[i] ?? '""'] as const), ...(extra ? [extra] : [])]),
        ),
      weight: 3,
    },
    { arbitrary: anyValueText, weight: 1 },
  );

const stringOrWrong = (good: fc.Arbitrary<string>, goodWeight = 6) =>
  fc.oneof(
    { arbitrary: good.map((s) => JSON.stringify(s)), weight: goodWeight },
    { arbitrary: anyString.map((s) => JSON.stringify(s)), weight: 2 },
    { arbitrary: wrongTypeText, weight: 1 },
  );

const createObjectText = fc
  .record({
    token: maybe(
      'token',
      stringOrWrong(
        fc.constantFrom(
          DEMO_TOKEN,
          DEMO_TOKEN.toLowerCase(),
          '00000000000000000000000000000000',
          DEMO_TOKEN,
          DEMO_TOKEN,
        ),
        12,
      ),
      12,
    ),
    identifiers: fc.oneof(
      { arbitrary: fc.constantFrom(...MATCHED_PAIRS), weight: 3 },
      {
        arbitrary: fc.tuple(
          identifierText(SUBSCRIPTION_IDENTIFIERS, ['id', 'number']),
          identifierText(ITEM_IDENTIFIERS, ['id', 'serial_number', 'alternative_code']),
        ),
        weight: 2,
      },
    ),
    absent: fc.constantFrom(
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'none',
      'subscription',
      'smartcard',
    ),
    processImmediately: maybe(
      'process_immediately',
      fc.oneof(
        { arbitrary: fc.constantFrom('true', 'false', '1', '0', '"true"', '"false"'), weight: 4 },
        { arbitrary: fc.constantFrom('"1"', '"0"', '"yes"', '2', 'null', '"TRUE"', '1.0', '-0'), weight: 2 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    scheduledDate: maybe(
      'scheduled_date',
      fc.oneof(
        { arbitrary: fc.constantFrom(...GOOD_DATES).map((d) => JSON.stringify(d)), weight: 4 },
        { arbitrary: fc.constantFrom(...BAD_DATES).map((d) => JSON.stringify(d)), weight: 3 },
        { arbitrary: fc.constantFrom(String(Date.now()), '1767225600'), weight: 1 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    priority: maybe(
      'priority',
      fc.oneof(
        { arbitrary: fc.constantFrom('"REGULAR"', '"EXPRESS"'), weight: 4 },
        { arbitrary: fc.constantFrom('"regular"', '"Express"', '"URGENT"', '""', '" REGULAR"'), weight: 2 },
        { arbitrary: anyValueText, weight: 1 },
      ),
      2,
    ),
    extra: extras(CREATE_FIELDS),
    reversed: fc.boolean(),
  })
  .map(({ extra, reversed, identifiers, absent, token, ...options }) => {
    const entries = [
      token,
      absent === 'subscription' ? undefined : (['subscription_identifier', identifiers[0]] as const),
      absent === 'smartcard' ? undefined : (['smartcard_identifier', identifiers[1]] as const),
      ...Object.values(options),
      ...extra,
    ].filter((e) => e !== undefined) as [string, string][];
    return objectText(reversed ? entries.reverse() : entries);
  });

const loginObjectText = fc
  .record({
    username: maybe(
      'username',
      stringOrWrong(fc.constantFrom(DEMO_LOGIN.username, 'mpadministrator', 'admin', 'root')),
      12,
    ),
    password: maybe(
      'password',
      stringOrWrong(
        fc.constantFrom(
          DEMO_LOGIN.password,
          DEMO_LOGIN.password,
          '12345',
          '123',
          '',
          '1234 ',
          '1235',
          'x'.repeat(5000),
        ),
      ),
      12,
    ),
    organisation: maybe('organisation', stringOrWrong(fc.constantFrom(DEMO_LOGIN.organisation, 'crmdemo', 'OTHER')), 3),
    organization: maybe('organization', stringOrWrong(fc.constantFrom(DEMO_LOGIN.organisation, 'OTHER')), 2),
    unit: maybe('unit', stringOrWrong(fc.constantFrom(DEMO_UNIT_ID, DEMO_UNIT_ID.toLowerCase(), 'UNKNOWN')), 2),
    extra: extras(LOGIN_FIELDS),
  })
  .map(({ extra, ...fields }) =>
    objectText([...Object.values(fields).filter((e) => e !== undefined), ...extra] as [string, string][]),
  );

/** A body as text: mostly a JSON object, sometimes malformed, at the size limit, or over it. */
const bodyText = (object: fc.Arbitrary<string>) =>
  fc.oneof(
    { arbitrary: object, weight: 40 },
    {
      arbitrary: fc.tuple(object, fc.constantFrom(0, 1, 100)).map(([text, over]) => {
        const size = Buffer.byteLength(text);
        return size >= BODY_LIMIT ? text : `${text}${' '.repeat(BODY_LIMIT - size + over)}`;
      }),
      weight: 1,
    },
    {
      arbitrary: fc
        .tuple(object, fc.nat())
        .map(([text, cut]) => text.slice(0, text.length > 1 ? cut % (text.length - 1) : 0)),
      weight: 1,
    },
    { arbitrary: object.map((text) => `[${text}]`), weight: 1 },
    { arbitrary: object.map((text) => `\ufeff${text}`), weight: 1 },
    { arbitrary: object.map((text) => `${text},`), weight: 1 },
    { arbitrary: object.map((text) => text.replaceAll('"', "'")), weight: 1 },
    { arbitrary: anyValueText, weight: 1 },
    { arbitrary: fc.string({ unit: 'binary', maxLength: 200 }), weight: 1 },
    {
      arbitrary: fc.constantFrom('', ' ', 'null', '{', '}', '{"token":NaN}', '{"token":undefined}', '/* */{}'),
      weight: 1,
    },
  );

/** Content types with what SPEC §2.5 makes of them: JSON (or absent: read as JSON) passes, anything else is 415. */
const CONTENT_TYPES: { value: string | undefined; json: boolean }[] = [
  { value: 'application/json', json: true },
  { value: 'application/json; charset=utf-8', json: true },
  { value: 'Application/JSON', json: true },
  { value: 'application/vnd.crm+json', json: true },
  { value: undefined, json: true },
  { value: 'text/plain', json: false },
  { value: 'application/x-www-form-urlencoded', json: false },
  { value: 'multipart/form-data; boundary=x', json: false },
  { value: 'application/jsonp', json: false },
  { value: 'text/json', json: false },
];
const contentType = fc.oneof(
  { arbitrary: fc.constant(CONTENT_TYPES[0] as (typeof CONTENT_TYPES)[number]), weight: 12 },
  { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 3 },
);

const idempotencyKey = fc.oneof(
  { arbitrary: fc.constant(undefined), weight: 12 },
  { arbitrary: fc.stringMatching(/^[\x21-\x7E][\x20-\x7E]{0,126}[\x21-\x7E]$/), weight: 2 },
  { arbitrary: fc.constantFrom('', 'x'.repeat(129), 'tab\there', 'caf\u00e9', 'with space'), weight: 1 },
);

export const createInput: fc.Arbitrary<BodyInput> = fc
  .record({ body: bodyText(createObjectText), type: contentType, idempotencyKey })
  .map(({ body, type, idempotencyKey: key }) => ({
    body,
    contentType: type.value,
    json: type.json,
    ...(key === undefined ? {} : { idempotencyKey: key }),
  }));

export const loginInput: fc.Arbitrary<BodyInput> = fc
  .record({ body: bodyText(loginObjectText), type: contentType })
  .map(({ body, type }) => ({ body, contentType: type.value, json: type.json }));

// Bounded: a URL over the front's 16 KiB header limit is refused by Node's HTTP parser (431) before any code of
// ours runs, as API Gateway refuses long URLs itself (414).
const queryValue = fc.oneof(
  { arbitrary: anyString.map((s) => s.slice(0, 1500)), weight: 3 },
  { arbitrary: fc.constantFrom('', '=', '&', '%', '%zz', '%C3%28', '+', '#', '?'), weight: 1 },
);

/** Lone surrogates cannot travel in a URL (UTF-8); they become U+FFFD as a browser would send them. */
const encodeQuery = (value: string) => encodeURIComponent(value.toWellFormed());

/** A show query: real parameters with good and bad values, unknown and prototype names, raw percent noise. */
export const showInput = (known: { ids: string[]; numbers: string[] }): fc.Arbitrary<ShowInput> => {
  const identifier = fc.oneof(
    {
      arbitrary: fc.constantFrom(...known.ids.map((id) => `id=${id}`), ...known.numbers.map((n) => `number=${n}`)),
      weight: 6,
    },
    {
      arbitrary: fc.constantFrom(
        'id=00000000000000000000000000000000',
        'number=999999999',
        'number=0',
        'number=-1',
        'number=1=2',
        'id=',
        'number',
        '=1',
        'ID=1',
        'serial_number=1',
        'id==',
        `number=${'9'.repeat(300)}`,
      ),
      weight: 3,
    },
    { arbitrary: fc.tuple(fc.constantFrom('id=', 'number=', ''), queryValue).map(([a, b]) => a + b), weight: 2 },
  );
  const fields = fc.oneof(
    { arbitrary: fc.subarray([...CRM_FIELDS], { minLength: 1 }).map((f) => f.join(',')), weight: 3 },
    { arbitrary: fc.constantFrom('', 'id,,', ' id , number ', 'nope', '__proto__', 'ID', 'id,constructor'), weight: 2 },
    { arbitrary: queryValue, weight: 1 },
  );
  const param = (name: string, value: fc.Arbitrary<string>, absentOneIn: number) =>
    fc.option(
      value.map((v) => `${name}=${encodeQuery(v)}`),
      { nil: undefined, freq: absentOneIn },
    );
  return fc
    .record({
      token: param(
        'token',
        fc.oneof(
          { arbitrary: fc.constantFrom(DEMO_TOKEN, DEMO_TOKEN.toLowerCase()), weight: 8 },
          { arbitrary: queryValue, weight: 2 },
        ),
        10,
      ),
      identifier: param('provisioning_request_identifier', identifier, 10),
      fields: param('fields_set', fields, 2),
      extra: fc.oneof(
        { arbitrary: fc.constant([] as string[]), weight: 6 },
        {
          arbitrary: fc.array(
            fc
              .tuple(fc.oneof(fc.constantFrom(...PROTOTYPE_KEYS, 'Token', 'id', 'number'), queryValue), queryValue)
              .map(([k, v]) => `${encodeQuery(k)}=${encodeQuery(v)}`),
            { minLength: 1, maxLength: 2 },
          ),
          weight: 1,
        },
      ),
      noise: fc.oneof(
        { arbitrary: fc.constant(''), weight: 8 },
        { arbitrary: fc.constantFrom('&', '&&', '&=', '&%', '&%zz=1', '&a', '&token', '&=&=', '&+=+'), weight: 1 },
      ),
    })
    .map(({ token, identifier: id, fields: f, extra, noise }) => ({
      query: [token, id, f, ...extra].filter((p) => p !== undefined).join('&') + noise,
    }));
};
