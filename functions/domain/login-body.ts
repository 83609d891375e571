import * as z from 'zod/mini';
import { ApiError } from './errors.ts';
import { identifierValue, parseOrThrow } from './validation.ts';

/** The body of `POST /authentication/token`. Both spellings of organisation are CRM.COM's. */
export const loginBodySchema = z.strictObject({
  username: identifierValue,
  password: z.string(),
  organisation: z.optional(identifierValue),
  organization: z.optional(identifierValue),
  unit: z.optional(z.string()),
});

export type LoginCommand = { username: string; password: string; organisation: string; unitId?: string };

export const parseLoginBody = (body: unknown): LoginCommand => {
  const parsed = parseOrThrow(loginBodySchema, body);
  const { organisation, organization } = parsed;
  if (organisation !== undefined && organization !== undefined && organisation !== organization) {
    throw new ApiError(
      'INVALID_VALUE',
      'A parameter has a value that is not allowed.',
      'organisation and organization differ',
    );
  }
  const org = organisation ?? organization;
  if (org === undefined) {
    throw new ApiError('MISSING_PARAMETER', 'A mandatory parameter is missing.', 'organisation is mandatory');
  }
  return { username: parsed.username, password: parsed.password, organisation: org, unitId: parsed.unit };
};

/** The body of `POST /authentication/token/release`. */
export const releaseBodySchema = z.strictObject({ token: z.string() });
