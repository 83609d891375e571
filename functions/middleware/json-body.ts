import type { MiddlewareObj } from '@middy/core';
import type { APIGatewayProxyEvent, APIGatewayProxyResult } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';

export const MAX_BODY_BYTES = 16 * 1024;

export type JsonObjectEvent = Omit<APIGatewayProxyEvent, 'body'> & { body: Record<string, unknown> };

const headerOf = (event: Pick<APIGatewayProxyEvent, 'headers'>, name: string): string | undefined => {
  const wanted = name.toLowerCase();
  for (const [key, value] of Object.entries(event.headers ?? {})) {
    if (key.toLowerCase() === wanted) return value;
  }
  return undefined;
};

/** Every value of a header, whatever the letter case of each occurrence's name. */
export const headerValues = (
  event: Pick<APIGatewayProxyEvent, 'headers' | 'multiValueHeaders'>,
  name: string,
): string[] => {
  const wanted = name.toLowerCase();
  const values: string[] = [];
  for (const [key, list] of Object.entries(event.multiValueHeaders ?? {})) {
    if (key.toLowerCase() === wanted) values.push(...(list ?? []));
  }
  return values.length > 0 ? values : [headerOf(event, name)].filter((v): v is string => v !== undefined);
};

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

const isJsonMediaType = (contentType: string): boolean => {
  const mediaType = contentType.split(';')[0]?.trim().toLowerCase() ?? '';
  return mediaType === 'application/json' || /^application\/[\w.+-]+\+json$/.test(mediaType);
};

/**
 * The body checks of SPEC §2.5, in its order: size (of the bytes received), media type (exactly one
 * Content-Type, a JSON one), a JSON object in valid UTF-8; then no query string, before the token. A missing
 * Content-Type is read as JSON, because CRM.COM clients do not always send one. Written here rather than with @middy/http-json-body-parser because that one
 * refuses a missing Content-Type and has no size limit.
 */
export const jsonObjectBody = (): MiddlewareObj<APIGatewayProxyEvent, APIGatewayProxyResult> => ({
  before: async (request) => {
    const { event } = request;
    const raw = event.isBase64Encoded ? Buffer.from(event.body ?? '', 'base64') : Buffer.from(event.body ?? '', 'utf8');
    if (raw.byteLength > MAX_BODY_BYTES) {
      throw new ApiError('PAYLOAD_TOO_LARGE', 'The request body is too large.', `body is over ${MAX_BODY_BYTES} bytes`);
    }
    const contentTypes = headerValues(event, 'content-type');
    if (contentTypes.length > 1) {
      throw new ApiError('UNSUPPORTED_MEDIA_TYPE', 'The request body must be JSON.', 'Content-Type is given twice');
    }
    const [contentType] = contentTypes;
    if (contentType !== undefined && !isJsonMediaType(contentType)) {
      throw new ApiError(
        'UNSUPPORTED_MEDIA_TYPE',
        'The request body must be JSON.',
        'Content-Type must be application/json',
      );
    }
    let text: string;
    try {
      text = utf8.decode(raw);
    } catch {
      throw new ApiError('INVALID_REQUEST', 'The request body is not valid UTF-8.', 'body');
    }
    let parsed: unknown;
    try {
      parsed = JSON.parse(text);
    } catch {
      throw new ApiError('INVALID_REQUEST', 'The request body is not valid JSON.', 'body');
    }
    if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
      throw new ApiError('INVALID_REQUEST', 'The request body must be a JSON object.', 'body');
    }
    // The POST methods take their fields in the body only: a field sent in the query (a misplaced
    // `?process_immediately=1`) would otherwise be silently left out.
    const [queryName] = Object.keys(event.queryStringParameters ?? {});
    if (queryName !== undefined) {
      throw new ApiError(
        'UNKNOWN_PARAMETER',
        'The request has a parameter that this method does not take.',
        `query parameter ${queryName}: this method takes its fields in the body`,
      );
    }
    (event as unknown as JsonObjectEvent).body = parsed as Record<string, unknown>;
  },
});
