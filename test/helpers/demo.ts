import { readFileSync } from 'node:fs';
import { DEMO_DATA_PATH, DEMO_KNOWN_CARDS } from '../../infra/local/local-stack.ts';
import type { ReferenceData } from '../../infra/tools/reference-data.ts';

/**
 * The demo data the local stack loads, read from the shipped file rather than typed again, so tests and the bench
 * follow it when it changes. Free of vitest: the bench imports it too.
 */
export const DEMO_DATA = JSON.parse(readFileSync(DEMO_DATA_PATH, 'utf8')) as ReferenceData;

type Organisation = ReferenceData['organisations'][number];

/** The demo organisation is the one with the live token (the seed's curl uses it); the other shows isolation. */
const demoOrganisation = DEMO_DATA.organisations.find((o) => (o.tokens ?? []).length > 0);
const otherOrganisation = DEMO_DATA.organisations.find((o) => o !== demoOrganisation);
if (demoOrganisation === undefined || otherOrganisation === undefined) {
  throw new Error(`${DEMO_DATA_PATH} needs an organisation with a token and a second one`);
}
export const DEMO_ORGANISATION: Organisation = demoOrganisation;
export const OTHER_ORGANISATION: Organisation = otherOrganisation;

const demoToken = DEMO_ORGANISATION.tokens?.[0] as NonNullable<Organisation['tokens']>[number];
const demoUser = DEMO_ORGANISATION.users.find((user) => user.username === demoToken.username);
if (demoUser?.password === undefined) throw new Error(`${DEMO_DATA_PATH} holds no user with a password for its token`);
const otherUser = OTHER_ORGANISATION.users[0];
if (otherUser?.password === undefined) throw new Error(`${DEMO_DATA_PATH}: ${OTHER_ORGANISATION.name} has no user`);

/** The live token of the demo data: its user, organisation and unit are the ones the tests act as. */
export const DEMO_TOKEN = demoToken.token;
export const DEMO_LOGIN = {
  username: demoUser.username,
  password: demoUser.password,
  organisation: DEMO_ORGANISATION.name,
} as const;
export const DEMO_UNIT_ID = demoToken.unit_id;

/** The user of the second organisation (SPEC §5), for the isolation tests. */
export const OTHER_LOGIN = {
  username: otherUser.username,
  password: otherUser.password,
  organisation: OTHER_ORGANISATION.name,
} as const;

/** The subscriptions of the token's organisation: the API answers any other organisation's as unknown. */
export const DEMO_SUBSCRIPTIONS = DEMO_ORGANISATION.subscriptions;

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

const cardsOf = (organisation: Organisation): DemoCard[] =>
  organisation.subscriptions.flatMap((subscription) =>
    subscription.installed_items
      .filter((item) => item.classification === 'SMARTCARD' && item.provisioning_provider === 'NAGRAVISION')
      .map((item) => ({
        subscription: subscription.number,
        subscriptionId: subscription.id,
        serial: item.serial_number,
        itemId: item.id,
        alternativeCode: item.alternative_code,
        caId: String(item.smartcard_ca_id),
        headendKnows: DEMO_KNOWN_CARDS.includes(String(item.smartcard_ca_id)),
      })),
  );

export const CARDS: readonly DemoCard[] = cardsOf(DEMO_ORGANISATION);
/** The second organisation's smartcard, which its user may clear and the demo user may not see. */
export const OTHER_ORGANISATION_CARD = cardsOf(OTHER_ORGANISATION)[0] as DemoCard;

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
