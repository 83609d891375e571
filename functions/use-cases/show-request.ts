import { ApiError } from '../domain/errors.ts';
import { selectFields } from '../domain/fields-set.ts';
import { toCrmView } from '../domain/provisioning-request.ts';
import { parseShowQuery } from '../domain/show-query.ts';
import { authenticate } from './authenticate.ts';
import type { RequestStore, SessionStore } from './ports.ts';

export type ShowDependencies = { sessions: SessionStore; requests: RequestStore; now: () => Date; timeZone: string };

/**
 * Show (SPEC §2.4).
 * 1. Authenticate the token, then validate the query.
 * 2. Read the request by id, or by number through the `by-number` index, in the token's organisation: another
 *    organisation's request is not found.
 * 3. Answer it in the CRM.COM shape, narrowed to `fields_set` when given.
 */
export const showRequest = async (deps: ShowDependencies, query: Record<string, string | undefined>) => {
  const { organisation } = await authenticate(deps.sessions, query, deps.now());
  const { identifier, fields } = parseShowQuery(query);
  const request =
    identifier.field === 'id'
      ? await deps.requests.findById(organisation, identifier.value)
      : await deps.requests.findByNumber(organisation, identifier.value);
  if (!request) {
    throw new ApiError(
      'PROVISIONING_REQUEST_NOT_FOUND',
      'The provisioning request was not found.',
      `provisioning_request_identifier ${identifier.field}=${identifier.value}`,
    );
  }
  return selectFields(toCrmView(request, deps.timeZone), fields);
};
