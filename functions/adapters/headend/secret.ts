import { GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';

const CACHE_MS = 5 * 60 * 1000;

/**
 * The headend bearer secret: from Secrets Manager in AWS (cached for five minutes so a rotated value is picked
 * up without a deploy), or a plain value locally. `forget()` drops the cache after the headend refuses it.
 */
export const createHeadendSecret = (source: { arn?: string; value?: string }) => {
  if (source.arn === undefined) {
    const value = source.value ?? '';
    return { get: async () => value, forget: () => undefined };
  }
  const arn = source.arn;
  const client = new SecretsManagerClient({});
  let cached: { value: string; until: number } | undefined;
  return {
    async get(): Promise<string> {
      if (cached && cached.until > Date.now()) return cached.value;
      const { SecretString } = await client.send(new GetSecretValueCommand({ SecretId: arn }));
      cached = { value: SecretString ?? '', until: Date.now() + CACHE_MS };
      return cached.value;
    },
    forget: () => {
      cached = undefined;
    },
  };
};
