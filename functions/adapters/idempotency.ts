import { IdempotencyConfig, makeIdempotent } from '@aws-lambda-powertools/idempotency';
import { DynamoDBPersistenceLayer } from '@aws-lambda-powertools/idempotency/dynamodb';
import type { DynamoDBClient } from '@aws-sdk/client-dynamodb';
import type { Context } from 'aws-lambda';
import { ApiError } from '../domain/errors.ts';
import type { IdempotencyGuard, IdempotencyScope } from '../use-cases/ports.ts';

export const IDEMPOTENCY_WINDOW_SECONDS = 24 * 60 * 60;

/**
 * The `Idempotency-Key` header (SPEC §2.3) on Powertools idempotency: the key is (user, header value), the
 * payload validation is the body's fingerprint, and the stored result is the first response's data.
 */
export const createIdempotencyGuard = (
  client: DynamoDBClient,
  tableName: string,
): IdempotencyGuard & { registerContext(context: Context): void } => {
  const config = new IdempotencyConfig({
    eventKeyJmesPath: '[scope, key]',
    payloadValidationJmesPath: 'fingerprint',
    expiresAfterSeconds: IDEMPOTENCY_WINDOW_SECONDS,
    throwOnNoIdempotencyKey: true,
  });
  const persistenceStore = new DynamoDBPersistenceLayer({ tableName, awsSdkV3Client: client });
  const runOnce = makeIdempotent(async (_id: IdempotencyScope, work: () => Promise<unknown>) => work(), {
    persistenceStore,
    config,
  });
  return {
    registerContext: (context) => config.registerLambdaContext(context),
    async once<T>(id: IdempotencyScope, work: () => Promise<T>): Promise<T> {
      let done: { result: T } | undefined;
      const recorded = async () => {
        done = { result: await work() };
        return done.result;
      };
      try {
        return (await runOnce(id, recorded)) as T;
      } catch (error) {
        // The work is done (the request is written and queued) but recording its result for repeats failed:
        // answering 503 would tell the client nothing was written. The result is the truth; answer it.
        if (done) return done.result;
        const name = (error as Error).name;
        if (name === 'IdempotencyValidationError') {
          throw new ApiError(
            'IDEMPOTENCY_KEY_REUSED',
            'The Idempotency-Key was already used with a different request.',
            'Idempotency-Key',
          );
        }
        if (name === 'IdempotencyAlreadyInProgressError') {
          throw new ApiError(
            'IDEMPOTENCY_KEY_REUSED',
            'A request with this Idempotency-Key is still in progress; retry shortly.',
            'Idempotency-Key',
          );
        }
        throw error;
      }
    },
  };
};
