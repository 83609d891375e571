import { SecretsProvider } from '@aws-lambda-powertools/parameters/secrets';
import type { SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

/** A headend credential: read when needed, cached, and read afresh after the headend refused it. */
export type Credential<T> = { get(): Promise<T>; refresh(): void };

/** Long enough to spare Secrets Manager, short enough that a corrected value is used within minutes. */
export const CREDENTIAL_MAX_AGE_SECONDS = 300;

/**
 * A credential in Secrets Manager, through Powertools Parameters (cached for `maxAge`). After `refresh()` the
 * next `get()` bypasses the cache, so a value put right after a 401 is picked up at the next call.
 */
export const secretsManagerCredential = <T>(
  client: SecretsManagerClient,
  secretId: string,
  parse: (value: string) => T,
): Credential<T> => {
  const provider = new SecretsProvider({ awsSdkV3Client: client });
  let forceFetch = false;
  return {
    async get() {
      const value = await provider.get(secretId, { maxAge: CREDENTIAL_MAX_AGE_SECONDS, forceFetch });
      forceFetch = false;
      if (typeof value !== 'string') throw new Error('The headend secret has no string value');
      return parse(value);
    },
    refresh() {
      forceFetch = true;
    },
  };
};

/** A credential given as a value (the local stack). */
export const fixedCredential = <T>(value: T): Credential<T> => ({ get: async () => value, refresh: () => undefined });
