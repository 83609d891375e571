import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { Identifier } from '../../domain/identifiers.ts';
import type { InstalledItem, Subscription } from '../../domain/installed-item.ts';
import type { ReferenceStore } from '../../use-cases/ports.ts';
import { batchGetByPk } from './batch-get.ts';
import { keys } from './keys.ts';
import { sessionFromItem } from './sessions.ts';

export const subscriptionKey = (identifier: Identifier<'id' | 'number'>): string =>
  identifier.field === 'id' ? keys.subscriptionById(identifier.value) : keys.subscriptionByNumber(identifier.value);

export const itemKey = (identifier: Identifier<'id' | 'serial_number' | 'alternative_code'>): string => {
  switch (identifier.field) {
    case 'id':
      return keys.itemById(identifier.value);
    case 'serial_number':
      return keys.itemBySerial(identifier.value);
    case 'alternative_code':
      return keys.itemByAltCode(identifier.value);
  }
};

const withoutKey = <T>(item: Record<string, unknown> | undefined): T | undefined => {
  if (!item) return undefined;
  const { pk: _pk, ...rest } = item;
  return rest as T;
};

export const createReferenceStore = (client: DynamoDBDocumentClient, tableName: string): ReferenceStore => ({
  async findSessionSubscriptionAndCard(tokenHash, subscription, item) {
    const tokenPk = keys.token(tokenHash);
    const subscriptionPk = subscription && subscriptionKey(subscription);
    const itemPk = item && itemKey(item);
    const found = await batchGetByPk(
      client,
      tableName,
      [tokenPk, subscriptionPk, itemPk].filter((pk): pk is string => pk !== undefined),
    );
    return {
      session: sessionFromItem(found.get(tokenPk)),
      subscription: subscriptionPk ? withoutKey<Subscription>(found.get(subscriptionPk)) : undefined,
      item: itemPk ? withoutKey<InstalledItem>(found.get(itemPk)) : undefined,
    };
  },
});
