import { createHash, randomBytes } from 'node:crypto';

/** CRM.COM ids are 32 uppercase hex characters. */
export const ID_PATTERN = /^[0-9A-F]{32}$/;

/**
 * The longest identifier value (subscription number, serial number, username…) accepted. Values are looked up
 * by exact DynamoDB key, and a key over 2,048 bytes is a DynamoDB error: a longer value is refused up front.
 */
export const MAX_IDENTIFIER_LENGTH = 256;

export const newId = (): string => randomBytes(16).toString('hex').toUpperCase();

/** A stable id derived from other values, for ids that must not change when the same data is loaded again. */
export const derivedId = (...parts: string[]): string =>
  createHash('sha256').update(parts.join('\u0000')).digest('hex').slice(0, 32).toUpperCase();

/** The fields of CRM.COM's identifier objects, by what they identify. */
export const SUBSCRIPTION_FIELDS = ['id', 'number'] as const;
export const SMARTCARD_FIELDS = ['id', 'serial_number', 'alternative_code'] as const;
export const REQUEST_IDENTIFIER_FIELDS = ['id', 'number'] as const;

/** What a query-string identifier (`field=value`) of these fields looks like; also the OpenAPI's pattern. */
export const queryIdentifierPattern = (fields: readonly string[]): RegExp => new RegExp(`^(${fields.join('|')})=.+$`);

/** Which field of a CRM.COM identifier object was given, and its value. */
export type Identifier<K extends string> = { field: K; value: string };

/**
 * Parses CRM.COM's query-string identifier form `field=value` (e.g. `number=18579`), as written in
 * `?provisioning_request_identifier=number=18579`.
 */
export const parseQueryIdentifier = <K extends string>(
  raw: string,
  fields: readonly K[],
): Identifier<K> | undefined => {
  const separator = raw.indexOf('=');
  if (separator <= 0) return undefined;
  const field = raw.slice(0, separator) as K;
  const value = raw.slice(separator + 1);
  if (!fields.includes(field) || value === '') return undefined;
  return { field, value };
};
