import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { InstalledItem, Subscription } from '../../domain/installed-item.ts';
import type { ReferenceStore, SmartcardIdentifier, SubscriptionIdentifier } from '../../use-cases/ports.ts';
import { batchGetByPk } from './batch-get.ts';
import { keys } from './keys.ts';
import { requestFromItem } from './requests.ts';

export const subscriptionKey = (organisation: string, identifier: SubscriptionIdentifier): string =>
  identifier.field === 'id'
    ? keys.subscriptionById(organisation, identifier.value)
    : keys.subscriptionByNumber(organisation, identifier.value);

export const itemKey = (organisation: string, identifier: SmartcardIdentifier): string => {
  switch (identifier.field) {
    case 'id':
      return keys.itemById(organisation, identifier.value);
    case 'serial_number':
      return keys.itemBySerial(organisation, identifier.value);
    case 'alternative_code':
      return keys.itemByAltCode(organisation, identifier.value);
  }
};

const withoutKey = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, ...rest } = item;
  return rest as T;
};

export const createReferenceStore = (client: DynamoDBDocumentClient, tableName: string): ReferenceStore => ({
  async findTarget(organisation, subscription, item, keyedRequestId) {
    const subscriptionPk = subscriptionKey(organisation, subscription);
    const itemPk = itemKey(organisation, item);
    const requestPk = keyedRequestId === undefined ? undefined : keys.request(keyedRequestId);
    const found = await batchGetByPk(
      client,
      tableName,
      [subscriptionPk, itemPk, requestPk].filter((pk): pk is string => pk !== undefined),
    );
    const keyed = requestPk === undefined ? undefined : requestFromItem(found.get(requestPk));
    return {
      subscription: withoutKey<Subscription>(found.get(subscriptionPk)),
      item: withoutKey<InstalledItem>(found.get(itemPk)),
      // Ids are derived from the organisation: another organisation's request cannot sit under this key.
      keyed: keyed?.organisation === organisation ? keyed : undefined,
    };
  },
});
