/**
 * Single-table design. Every item has one key attribute, `pk`; every access is by exact key, except through the
 * indexes below. Every key a client's identifier leads to starts with the organisation of the token (SPEC §2),
 * so another organisation's subscription, card or request is simply not there.
 *
 * | item                 | pk                                   | written by                | read by                                  |
 * |----------------------|--------------------------------------|---------------------------|------------------------------------------|
 * | user (+ its units)   | USER#<org>#<username>                | reference-data loader     | login (GetItem)                          |
 * | login attempts       | LOGIN#<org>#<username>               | login (conditional writes)| login (GetItem after a refused slot)     |
 * | token                | TOKEN#<sha256 of token>              | login, loader (demo), use | every authenticated call (GetItem)       |
 * | subscription         | SUB#<org>#ID#<id>, SUB#<org>#NUMBER#<n> | loader (a copy per key) | create (BatchGetItem)                    |
 * | installed item       | ITEM#<org>#ID#<id>, ITEM#<org>#SERIAL#<s>, ITEM#<org>#ALT#<code> | loader (a copy per key) | create (BatchGetItem) |
 * | sequence counter     | SEQ#<name>                           | create, worker (ADD)      | —                                        |
 * | provisioning request | REQ#<id>                             | create (conditional Put), | show by id (GetItem, organisation checked),|
 * |                      |                                      | processing (Update)       | create with an Idempotency-Key (BatchGetItem), worker (claim) |
 *
 * A request's id is random, except for a create with an Idempotency-Key, whose id is derived from (organisation,
 * user, key): that request is its own idempotency record, read in the create's BatchGetItem and written with a
 * conditional Put (docs/architecture.md, "Idempotency-Key").
 *
 * A create is three round trips, with or without an Idempotency-Key: the token (GetItem); then the subscription,
 * the smartcard and the keyed request (one BatchGetItem, by exact key because the loader writes a copy of each
 * record under every identifier a client may use) in parallel with taking the number (ADD on the counter) and,
 * at most once a minute, the token's last use; then the conditional PutItem.
 *
 * Indexes (keys only unless said):
 * - `by-number` (`numberKey` = `<org>#<number>` → pk): show and cancel by `number=`. Only provisioning requests
 *   carry `numberKey`, so a subscription numbered like a request is never found through it.
 * - `by-creation` (`creationKey` = `<org>#<priority>`, `listSort` = `<created second>#<number, 20 digits>`): list
 *   without a state filter, read backwards (newest `created_date` first, ties in the second by number highest
 *   first): both priorities' partitions, or the one of a priority filter, each for at most
 *   `offset + number_of_results` entries, merged in order. The creation-date filter is a range on `listSort`, to
 *   the second as CRM.COM shows dates. An entry never moves, so a request that becomes final while a list reads
 *   is listed once, in its state at the read of the requests themselves.
 * - `list` (`listKey` = `<org>#<state>#<priority>`, `listSort`): list with a state filter, one partition per
 *   priority asked for. A final write moves the request to its new state's partition: a request leaving the
 *   state while a list reads may be left out, as it no longer matches.
 * - `by-subscription` (`listSubscription` = `<org>#<subscription id>`, `listSort`) and `by-smartcard`
 *   (`listSmartcard` = `<org>#<installed item id>`, `listSort`), projecting `lifeCycleState`, `priority` and
 *   `subscriptionId`: list with a subscription or smartcard filter; the other filters are applied to that
 *   subscription's or card's requests only.
 * - `events` (`eventShard` = `EVENT#<n>`, `eventAt`): sparse, the outbox of SPEC §3.1. A final write places the
 *   request there; publishing its event takes it out; the processing run publishes what is left.
 * - `due` (`dueShard`, `dueAt` → pk): sparse. A request carries `dueShard` and `dueAt` only while PENDING;
 *   `dueAt` is when the processing run should next look at it (its scheduled date, a grace period after a
 *   process-immediately create, or the end of a claim lease or retry back-off). `dueShard` is
 *   `<priority>#<n>`, so the run reads EXPRESS partitions before REGULAR ones, oldest first within each, and
 *   writes spread over n shards instead of one hot partition.
 *
 * Expiry is always checked in code (dynalite has no TTL); the `ttl` attribute only lets DynamoDB clean up.
 */
export const keys = {
  user: (organisation: string, username: string) => `USER#${organisation}#${username}`,
  loginAttempts: (organisation: string, username: string) => `LOGIN#${organisation}#${username}`,
  token: (tokenHash: string) => `TOKEN#${tokenHash}`,
  subscriptionById: (organisation: string, id: string) => `SUB#${organisation}#ID#${id}`,
  subscriptionByNumber: (organisation: string, number: string) => `SUB#${organisation}#NUMBER#${number}`,
  itemById: (organisation: string, id: string) => `ITEM#${organisation}#ID#${id}`,
  itemBySerial: (organisation: string, serial: string) => `ITEM#${organisation}#SERIAL#${serial}`,
  itemByAltCode: (organisation: string, code: string) => `ITEM#${organisation}#ALT#${code}`,
  sequence: (name: string) => `SEQ#${name}`,
  request: (id: string) => `REQ#${id}`,
  /** The `by-number` index's key of a request. */
  requestNumber: (organisation: string, number: string) => `${organisation}#${number}`,
  /** The `by-creation` index's partition of a request: one per organisation and priority. */
  creationPartition: (organisation: string, priority: string) => `${organisation}#${priority}`,
  /** The `list` index's partition of a request: one per organisation, state and priority. */
  listPartition: (organisation: string, state: string, priority: string) => `${organisation}#${state}#${priority}`,
  listBySubscription: (organisation: string, subscriptionId: string) => `${organisation}#${subscriptionId}`,
  listBySmartcard: (organisation: string, installedItemId: string) => `${organisation}#${installedItemId}`,
  /**
   * Newest first when read backwards: the second of creation (the `created_date` a client sees), then the number
   * (ties in that second), zero-padded to sort.
   */
  listSort: (createdAt: string, number: string) => `${creationSecond(createdAt)}#${number.padStart(20, '0')}`,
  eventShard: (n: number) => `EVENT#${n}`,
} as const;

export const INDEX = {
  due: 'due',
  byNumber: 'by-number',
  byCreation: 'by-creation',
  list: 'list',
  bySubscription: 'by-subscription',
  bySmartcard: 'by-smartcard',
  events: 'events',
} as const;

/** Shards of the sparse `events` index, so that no single partition takes every final state's write. */
export const EVENT_SHARDS = 4;

export const requestIdOf = (pk: string): string => pk.slice('REQ#'.length);

/**
 * An ISO instant cut to its second, `YYYY-MM-DDTHH:MM:SSZ`: how `listSort` and the bounds of a creation-date
 * range compare. Every key of a second sorts after that second's bound (the key goes on with `#`).
 */
export const creationSecond = (iso: string): string => `${iso.slice(0, 19)}Z`;

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
