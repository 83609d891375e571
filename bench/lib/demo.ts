import { readFileSync } from 'node:fs';
import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { hashToken } from '../../functions/domain/credentials.ts';
import type { ClearPinTarget, InstalledItem } from '../../functions/domain/installed-item.ts';
import { newProvisioningRequest, type ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import type { Unit, UserSummary } from '../../functions/domain/session.ts';
import type { DuePlacement } from '../../functions/use-cases/ports.ts';
import { DEMO_DATA_PATH } from '../../infra/local/local-stack.ts';

/** The demo token of the local stack (SPEC §5) and the request of `seed/clear_pin.txt`, verbatim. */
export const DEMO_TOKEN = 'A7AD3752AC7B48099A80E62C8F0BE565';
export const SEED_BODY = {
  token: DEMO_TOKEN,
  subscription_identifier: { number: 'S60507' },
  smartcard_identifier: { serial_number: 'smrt20000054' },
};
export const CLEAR_PIN_PATH = '/nagravision/provisioning_requests/clear_pin';

const ORGANISATION = 'CRMDEMO';

/** The key of the seed token's session, which a create reads first. */
export const SEED_TOKEN_KEY = keys.token(hashToken(DEMO_TOKEN));

/** The two keys the create's BatchGetItem reads for the seed body, in the token's organisation. */
export const SEED_LOOKUP_KEYS = [
  keys.subscriptionByNumber(ORGANISATION, 'S60507'),
  keys.itemBySerial(ORGANISATION, 'smrt20000054'),
];

type DemoData = {
  organisations: {
    name: string;
    units: Unit[];
    users: (UserSummary & { default_unit_id: string })[];
    subscriptions: {
      id: string;
      number: string;
      installed_items: Omit<InstalledItem, 'subscription_id'>[];
    }[];
  }[];
};

const demo = (JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')) as DemoData).organisations.find(
  (o) => o.name === ORGANISATION,
) as DemoData['organisations'][number];
const user = demo.users[0] as (typeof demo.users)[number];
const unit = demo.units.find((u) => u.id === user.default_unit_id) as Unit;
const subscription = demo.subscriptions.find((s) => s.number === 'S60507') as (typeof demo.subscriptions)[number];
const smartcard = {
  ...subscription.installed_items.find((i) => i.serial_number === 'smrt20000054'),
  subscription_id: subscription.id,
} as ClearPinTarget['smartcard'];
const userSummary: UserSummary = { id: user.id, username: user.username, person_name: user.person_name };

/** A PENDING request for the seed's smartcard, built by the same function as the create use case's. */
export const seedRequest = (number: string, now: Date, scheduledAt: Date = now): ProvisioningRequest =>
  newProvisioningRequest(
    { priority: 'REGULAR', processImmediately: false, scheduledAt },
    { subscription, smartcard },
    { organisation: ORGANISATION, user: userSummary, unit },
    number,
    now,
  );

/**
 * The item `RequestStore.create` writes (functions/adapters/dynamo/requests.ts), for writing many at once with
 * BatchWriteItem. The API scenario checks its attributes against a request the API itself created.
 */
export const requestItem = (request: ProvisioningRequest, due: DuePlacement) => ({
  ...request,
  pk: keys.request(request.id),
  numberKey: keys.requestNumber(request.organisation, request.number),
  dueShard: due.shard,
  dueAt: due.at.toISOString(),
});
