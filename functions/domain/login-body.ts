// A namespace import lets esbuild drop zod's unused locales (~360 KB); `import { z }` keeps them all.
import * as z from 'zod';
import { ApiError } from './errors.ts';
import { identifierValue } from './identifiers.ts';
import { parseOrThrow } from './validation.ts';

/** The body of `POST /authentication/token`. Both spellings of organisation are CRM.COM's. */
export const loginBodySchema = z.strictObject({
  username: identifierValue,
  password: z.string(),
  organisation: identifierValue.optional(),
  organization: identifierValue.optional(),
  unit: z.string().optional(),
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
