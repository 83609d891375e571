/** A global secondary index on string attributes: keys only, or with the named attributes projected too. */
export type TableIndex = {
  readonly name: string;
  readonly partitionKey: string;
  readonly sortKey?: string;
  readonly include?: readonly string[];
};

/**
 * The main table's indexes, as the stateful stack deploys them and the local stack creates them; the access
 * patterns that use each one are in functions/adapters/dynamo/keys.ts.
 */
export const TABLE_INDEXES: readonly TableIndex[] = [
  { name: 'due', partitionKey: 'dueShard', sortKey: 'dueAt' },
  { name: 'by-number', partitionKey: 'numberKey' },
  { name: 'by-creation', partitionKey: 'creationKey', sortKey: 'listSort' },
  { name: 'list', partitionKey: 'listKey', sortKey: 'listSort' },
  {
    name: 'by-subscription',
    partitionKey: 'listSubscription',
    sortKey: 'listSort',
    include: ['lifeCycleState', 'priority', 'subscriptionId'],
  },
  {
    name: 'by-smartcard',
    partitionKey: 'listSmartcard',
    sortKey: 'listSort',
    include: ['lifeCycleState', 'priority', 'subscriptionId'],
  },
  { name: 'events', partitionKey: 'eventShard', sortKey: 'eventAt' },
];
