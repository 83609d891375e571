/**
 * Single-table design. Every item has one key attribute, `pk`; no sort key is needed because every access
 * is by exact key, except the two indexes below.
 *
 * | item                 | pk                              | written by               | read by                          |
 * |----------------------|---------------------------------|--------------------------|----------------------------------|
 * | user (+ its units)   | USER#<organisation>#<username>  | reference-data loader    | login (GetItem)                  |
 * | login failures       | LOGINFAIL#<username>            | login                    | login (same BatchGetItem as user)|
 * | token                | TOKEN#<sha256 of token>         | login, token use (touch) | every authenticated call         |
 * | subscription         | SUB#ID#<id>, SUB#NUMBER#<n>     | loader (one copy per key)| create (BatchGetItem)            |
 * | installed item       | ITEM#ID#<id>, ITEM#SERIAL#<s>,  | loader (one copy per key)| create (BatchGetItem)            |
 * |                      | ITEM#ALT#<code>                 |                          |                                  |
 * | sequence counter     | SEQ#<name>                      | create (ADD), worker     | —                                |
 * | provisioning request | REQ#<id>                        | create, processing       | show by id, worker (GetItem)     |
 *
 * A create is at most three round trips: one BatchGetItem (token + subscription + smartcard, each by exact
 * key because the loader writes a copy of each record under every identifier a client may use), one ADD on the
 * sequence counter, one conditional PutItem. A token's last use is written at most once a minute.
 *
 * Indexes:
 * - `by-number` (`number` → keys): show by `number=`. Only requests carry `number`.
 * - `due` (`dueShard`, `dueAt` → keys): sparse. A request carries `dueShard` and `dueAt` only while PENDING;
 *   `dueAt` is when the processing run should next look at it (its scheduled date, a grace period after a
 *   process-immediately create, or the end of a claim lease or retry back-off). `dueShard` is
 *   `<priority>#<n>`, so the run reads EXPRESS partitions before REGULAR ones, oldest first within each, and
 *   writes spread over n shards instead of one hot partition.
 *
 * Expiry is always checked in code (dynalite has no TTL); the `ttl` attribute only lets DynamoDB clean up.
 */
export const keys = {
  user: (organisation: string, username: string) => `USER#${organisation}#${username}`,
  loginFailures: (username: string) => `LOGINFAIL#${username}`,
  token: (tokenHash: string) => `TOKEN#${tokenHash}`,
  subscriptionById: (id: string) => `SUB#ID#${id}`,
  subscriptionByNumber: (number: string) => `SUB#NUMBER#${number}`,
  itemById: (id: string) => `ITEM#ID#${id}`,
  itemBySerial: (serial: string) => `ITEM#SERIAL#${serial}`,
  itemByAltCode: (code: string) => `ITEM#ALT#${code}`,
  sequence: (name: string) => `SEQ#${name}`,
  request: (id: string) => `REQ#${id}`,
} as const;

export const INDEX = { due: 'due', byNumber: 'by-number' } as const;

export const requestIdOf = (pk: string): string => pk.slice('REQ#'.length);

export const epochSeconds = (date: Date): number => Math.floor(date.getTime() / 1000);
