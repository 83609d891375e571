import { type DynamoDBDocumentClient, GetCommand } from '@aws-sdk/lib-dynamodb';
import type { User } from '../../domain/session.ts';
import type { UserStore } from '../../use-cases/ports.ts';
import { keys } from './keys.ts';

export const createUserStore = (client: DynamoDBDocumentClient, tableName: string): UserStore => ({
  async find(organisation, username) {
    const { Item } = await client.send(
      new GetCommand({ TableName: tableName, Key: { pk: keys.user(organisation, username) }, ConsistentRead: true }),
    );
    if (!Item) return undefined;
    const { pk: _pk, ...user } = Item;
    return user as User;
  },
});
