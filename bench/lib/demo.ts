import { keys } from '../../functions/adapters/dynamo/keys.ts';
import { hashToken } from '../../functions/domain/credentials.ts';
import type { ClearPinTarget } from '../../functions/domain/installed-item.ts';
import { newProvisioningRequest, type ProvisioningRequest } from '../../functions/domain/provisioning-request.ts';
import type { Unit, UserSummary } from '../../functions/domain/session.ts';
import {
  DEMO_LOGIN,
  DEMO_ORGANISATION,
  DEMO_TOKEN,
  DEMO_UNIT_ID,
  KNOWN_CARD,
  seedBody,
} from '../../test/helpers/demo.ts';
import { ROUTES } from '../../test/helpers/http.ts';

/** The request of `seed/clear_pin.txt` with the local stack's demo token, from the demo data the tests read too. */
export const SEED_BODY = seedBody();
export const CLEAR_PIN_PATH = ROUTES.clearPin;

const ORGANISATION = DEMO_LOGIN.organisation;

/** The key of the seed token's session, which a create reads first. */
export const SEED_TOKEN_KEY = keys.token(hashToken(DEMO_TOKEN));

/** The two keys the create's BatchGetItem reads for the seed body, in the token's organisation. */
export const SEED_LOOKUP_KEYS = [
  keys.subscriptionByNumber(ORGANISATION, KNOWN_CARD.subscription),
  keys.itemBySerial(ORGANISATION, KNOWN_CARD.serial),
];

const user = DEMO_ORGANISATION.users.find((u) => u.username === DEMO_LOGIN.username) as UserSummary;
const unit = DEMO_ORGANISATION.units.find((u) => u.id === DEMO_UNIT_ID) as Unit;
const subscription = DEMO_ORGANISATION.subscriptions.find(
  (s) => s.number === KNOWN_CARD.subscription,
) as ClearPinTarget['subscription'];
const smartcard = {
  ...DEMO_ORGANISATION.subscriptions
    .flatMap((s) => s.installed_items)
    .find((i) => i.serial_number === KNOWN_CARD.serial),
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
 * The item `RequestStore.create` writes, for writing many at once with BatchWriteItem. The API scenario checks its
 * attributes against a request the API itself created.
 */
export { requestItem } from '../../functions/adapters/dynamo/requests.ts';
