import { readFileSync } from 'node:fs';
import { DEFAULT_KNOWN_CARDS } from '../../infra/local/headend-simulator.ts';
import { DEMO_DATA_PATH } from '../../infra/local/local-stack.ts';
import type { ReferenceData } from '../../infra/tools/reference-data.ts';

/**
 * The demo data the local stack loads, read from the shipped file rather than typed again, so tests and the bench
 * follow it when it changes. Free of vitest: the bench imports it too.
 */
export const DEMO_DATA = JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')) as ReferenceData;

const demoToken = DEMO_DATA.tokens?.[0];
if (demoToken === undefined) throw new Error(`${DEMO_DATA_PATH} holds no token`);
const demoUser = DEMO_DATA.users.find(
  (user) => user.username === demoToken.username && user.organisation === demoToken.organisation,
);
if (demoUser === undefined) throw new Error(`${DEMO_DATA_PATH} holds no user for its token`);

/** The live token of the demo data: its user, organisation and unit are the ones the tests act as. */
export const DEMO_TOKEN = demoToken.token;
export const DEMO_LOGIN = {
  username: demoUser.username,
  password: demoUser.password,
  organisation: demoUser.organisation,
} as const;
export const DEMO_UNIT_ID = demoToken.unit_id;

/**
 * The subscriptions of the token's organisation: the API answers any other organisation's as unknown. A file of
 * one organisation names it on no subscription; a file of several names each one's.
 */
export const DEMO_SUBSCRIPTIONS = DEMO_DATA.subscriptions.filter(
  (subscription) => !('organisation' in subscription) || subscription.organisation === DEMO_LOGIN.organisation,
);

/** A Nagravision smartcard of the demo organisation: a card a clear-PIN can be asked for. */
export type DemoCard = {
  subscription: string;
  subscriptionId: string;
  serial: string;
  itemId: string;
  alternativeCode: string | undefined;
  caId: string;
  /** The local stack's headend simulator knows the card's CA id, so its clear-PIN completes (else REJECTED). */
  headendKnows: boolean;
};

export const CARDS: readonly DemoCard[] = DEMO_SUBSCRIPTIONS.flatMap((subscription) =>
  subscription.installed_items
    .filter((item) => item.classification === 'SMARTCARD' && item.provisioning_provider === 'NAGRAVISION')
    .map((item) => ({
      subscription: subscription.number,
      subscriptionId: subscription.id,
      serial: item.serial_number,
      itemId: item.id,
      alternativeCode: item.alternative_code,
      caId: String(item.smartcard_ca_id),
      headendKnows: DEFAULT_KNOWN_CARDS.includes(String(item.smartcard_ca_id)),
    })),
);

const known = CARDS.filter((card) => card.headendKnows);
const unknown = CARDS.find((card) => !card.headendKnows);
if (known.length < 2 || unknown === undefined) {
  throw new Error(`${DEMO_DATA_PATH} needs two smartcards the headend knows and one it does not`);
}
/** The first card the headend knows: the seed example's (seed/clear_pin.txt). */
export const KNOWN_CARD = known[0] as DemoCard;
export const OTHER_KNOWN_CARD = known[1] as DemoCard;
export const UNKNOWN_CARD = unknown;

/** A clear_pin body for `card` with the demo token; `overrides` may replace or add any field, the token too. */
export const clearPinBody = (card: DemoCard, overrides: Record<string, unknown> = {}): Record<string, unknown> => ({
  token: DEMO_TOKEN,
  subscription_identifier: { number: card.subscription },
  smartcard_identifier: { serial_number: card.serial },
  ...overrides,
});

/** The body of the seed example (seed/clear_pin.txt), with `overrides`. */
export const seedBody = (overrides: Record<string, unknown> = {}) => clearPinBody(KNOWN_CARD, overrides);
