import { selectFields } from '../domain/fields-set.ts';
import { parseListQuery } from '../domain/list-query.ts';
import { toCrmView } from '../domain/provisioning-request.ts';
import { authenticate } from './authenticate.ts';
import type { RequestList, SessionStore } from './ports.ts';

export type ListDependencies = { sessions: SessionStore; list: RequestList; now: () => Date; timeZone: string };

/**
 * List (SPEC §2.6).
 * 1. Authenticate the token, then validate the query.
 * 2. Read one page of the token's organisation's requests, newest first, through the index each filter has.
 * 3. Answer them in the CRM.COM shape, narrowed to `fields_set` when given.
 */
export const listRequests = async (deps: ListDependencies, query: Record<string, string | undefined>) => {
  const { organisation } = await authenticate(deps.sessions, query, deps.now());
  const criteria = parseListQuery(query, { timeZone: deps.timeZone });
  const page = await deps.list.page(organisation, criteria);
  return page.map((request) => selectFields(toCrmView(request, deps.timeZone), criteria.fields));
};
