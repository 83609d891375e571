import { randomUUID } from 'node:crypto';
import type { LocalEndpoint } from '../../helpers/local-server.ts';
import { startAwsJsonService } from './aws-json-service.ts';

export type StoredSecret = { readonly arn: string; readonly name: string; readonly value: string };

/**
 * A local Secrets Manager for the SDK, answering `secretsmanager.GetSecretValue` (by ARN or name) for the secrets
 * it holds, the way the service does.
 */
export const startSecretsManager = (secrets: readonly StoredSecret[]): Promise<LocalEndpoint> => {
  const versions = new Map(secrets.map((secret) => [secret.arn, randomUUID()]));
  const createdSeconds = Math.floor(Date.now() / 1000);
  return startAwsJsonService({
    'secretsmanager.GetSecretValue': (body) => {
      const secret = secrets.find((s) => s.arn === body.SecretId || s.name === body.SecretId);
      if (!secret) {
        return [
          400,
          { __type: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." },
        ];
      }
      return [
        200,
        {
          ARN: secret.arn,
          Name: secret.name,
          VersionId: versions.get(secret.arn),
          SecretString: secret.value,
          VersionStages: ['AWSCURRENT'],
          CreatedDate: createdSeconds,
        },
      ];
    },
  });
};
