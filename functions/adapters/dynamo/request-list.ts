import { type DynamoDBDocumentClient, QueryCommand } from '@aws-sdk/lib-dynamodb';
import type { ListCriteria } from '../../domain/list-query.ts';
import type { Priority } from '../../domain/provisioning-request.ts';
import type { RequestList } from '../../use-cases/ports.ts';
import { batchGetByPk } from './batch-get.ts';
import { creationSecond, INDEX, keys } from './keys.ts';
import { itemKey, subscriptionKey } from './reference-data.ts';
import { requestFromItem } from './requests.ts';

const PRIORITIES: Priority[] = ['EXPRESS', 'REGULAR'];

type Entry = { pk: string; listSort: string };

/** One index partition to read backwards, with what the key cannot say left to a filter. */
type Source = { index: string; keyName: string; key: string; filters: Record<string, string> };

/** The range of `listSort` a creation-date filter covers, to the second; `empty` when nothing can be in it. */
type SortRange = { from?: string; until?: string; empty: boolean };

/** The first instant `listSort` cannot write (`toISOString` gives `+010000-…` from there, which sorts first). */
const YEAR_10000 = Date.UTC(10_000, 0, 1);

const sortRange = (criteria: ListCriteria): SortRange => {
  const from = criteria.from && creationSecond(criteria.from.toISOString());
  // `until` is exclusive: a bound inside a second covers the whole second, as the client sees created_date.
  const untilMs = criteria.until && Math.ceil(criteria.until.getTime() / 1000) * 1000;
  const until =
    untilMs !== undefined && untilMs < YEAR_10000 ? creationSecond(new Date(untilMs).toISOString()) : undefined;
  return { from, until, empty: from !== undefined && until !== undefined && from >= until };
};

/**
 * Reads one partition newest first until `need` entries passed its filter (or it ends): the cost is bounded by
 * `offset + number_of_results` per partition, whatever the table holds.
 */
const readNewest = async (
  client: DynamoDBDocumentClient,
  tableName: string,
  source: Source,
  sort: SortRange,
  need: number,
): Promise<Entry[]> => {
  const names: Record<string, string> = { '#key': source.keyName };
  const values: Record<string, unknown> = { ':key': source.key };
  let range = '';
  // No key equals a bound (keys go on with `#`), so BETWEEN leaves the `until` second out.
  if (sort.from && sort.until) {
    range = ' AND listSort BETWEEN :from AND :until';
  } else if (sort.from) {
    range = ' AND listSort >= :from';
  } else if (sort.until) {
    range = ' AND listSort < :until';
  }
  if (sort.from) values[':from'] = sort.from;
  if (sort.until) values[':until'] = sort.until;
  const filters = Object.entries(source.filters).map(([attribute, value], i) => {
    names[`#f${i}`] = attribute;
    values[`:f${i}`] = value;
    return `#f${i} = :f${i}`;
  });
  const found: Entry[] = [];
  let start: Record<string, unknown> | undefined;
  do {
    const page = await client.send(
      new QueryCommand({
        TableName: tableName,
        IndexName: source.index,
        KeyConditionExpression: `#key = :key${range}`,
        ...(filters.length > 0 && { FilterExpression: filters.join(' AND ') }),
        ExpressionAttributeNames: names,
        ExpressionAttributeValues: values,
        ScanIndexForward: false,
        Limit: need - found.length,
        ExclusiveStartKey: start,
      }),
    );
    for (const item of page.Items ?? []) found.push({ pk: item.pk as string, listSort: item.listSort as string });
    start = page.LastEvaluatedKey;
  } while (start && found.length < need);
  return found.slice(0, need);
};

export const createRequestList = (client: DynamoDBDocumentClient, tableName: string): RequestList => {
  /** The ids behind the filter's identifiers, in the organisation; undefined when one of them is unknown. */
  const resolve = async (organisation: string, criteria: ListCriteria) => {
    const subscriptionPk = criteria.subscription && subscriptionKey(organisation, criteria.subscription);
    const itemPk = criteria.smartcard && itemKey(organisation, criteria.smartcard);
    const pks = [subscriptionPk, itemPk].filter((pk): pk is string => pk !== undefined);
    const found = pks.length === 0 ? new Map() : await batchGetByPk(client, tableName, pks);
    const subscriptionId = subscriptionPk && (found.get(subscriptionPk)?.id as string | undefined);
    const itemId = itemPk && (found.get(itemPk)?.id as string | undefined);
    if ((subscriptionPk && !subscriptionId) || (itemPk && !itemId)) return undefined;
    return { subscriptionId, itemId };
  };

  const sourcesFor = (
    organisation: string,
    criteria: ListCriteria,
    ids: { subscriptionId?: string; itemId?: string },
  ) => {
    const filters: Record<string, string> = {
      ...(criteria.state && { lifeCycleState: criteria.state }),
      ...(criteria.priority && { priority: criteria.priority }),
    };
    if (ids.itemId) {
      const filtered = ids.subscriptionId ? { ...filters, subscriptionId: ids.subscriptionId } : filters;
      return [
        {
          index: INDEX.bySmartcard,
          keyName: 'listSmartcard',
          key: keys.listBySmartcard(organisation, ids.itemId),
          filters: filtered,
        },
      ];
    }
    if (ids.subscriptionId) {
      return [
        {
          index: INDEX.bySubscription,
          keyName: 'listSubscription',
          key: keys.listBySubscription(organisation, ids.subscriptionId),
          filters,
        },
      ];
    }
    const priorities = criteria.priority ? [criteria.priority] : PRIORITIES;
    const { state } = criteria;
    if (!state) {
      return priorities.map((priority) => ({
        index: INDEX.byCreation,
        keyName: 'creationKey',
        key: keys.creationPartition(organisation, priority),
        filters: {},
      }));
    }
    return priorities.map((priority) => ({
      index: INDEX.list,
      keyName: 'listKey',
      key: keys.listPartition(organisation, state, priority),
      filters: {},
    }));
  };

  return {
    async page(organisation, criteria) {
      const sort = sortRange(criteria);
      if (sort.empty) return [];
      const ids = await resolve(organisation, criteria);
      if (!ids) return [];
      const need = criteria.offset + criteria.limit;
      const sources = sourcesFor(organisation, criteria, ids);
      const read = await Promise.all(sources.map((s) => readNewest(client, tableName, s, sort, need)));
      // The partitions read hold a request once each (none of their keys moves), so a merge needs no dedupe.
      const entries = read
        .flat()
        .sort((a, b) => (a.listSort < b.listSort ? 1 : a.listSort > b.listSort ? -1 : 0))
        .slice(criteria.offset, need);
      if (entries.length === 0) return [];
      const items = await batchGetByPk(
        client,
        tableName,
        entries.map((e) => e.pk),
      );
      return entries.flatMap((e) => {
        const request = requestFromItem(items.get(e.pk));
        // An index lags its table a moment: a request that has just left the filter (its state changed) is left
        // out rather than shown under a filter it no longer matches.
        const matches =
          request?.organisation === organisation &&
          (criteria.state === undefined || request.lifeCycleState === criteria.state);
        return matches ? [request] : [];
      });
    },
  };
};
