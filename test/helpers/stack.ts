import { afterAll, beforeAll } from 'vitest';
import {
  type CagSite,
  cagEnvironment,
  type HeadendChoice,
  type LocalStack,
  type LocalStackOptions,
  type SimulatorOf,
  startLocalStack,
} from '../../infra/local/local-stack.ts';
import { type FaultProxy, startFaultProxy } from './fault-proxy.ts';

/**
 * The environment that makes the local stack's processing fast enough for tests: a 2 s lease (above the worst
 * headend call: two 500 ms attempts and a back-off), 1 s retries, a 1 s grace before the processing run takes over a
 * process-immediately request.
 */
export const FAST_PROCESSING_ENV = {
  IMMEDIATE_GRACE_SECONDS: '1',
  LEASE_SECONDS: '2',
  RETRY_BASE_SECONDS: '0.25',
  RETRY_CAP_SECONDS: '1',
  HEADEND_TIMEOUT_MS: '500',
  // These tests provoke failures on purpose; their expected error lines would drown the test report.
  POWERTOOLS_LOG_LEVEL: 'CRITICAL',
} as const;

/** A local stack whose functions reach DynamoDB and SQS through fault proxies the test can cut. */
export type ProxiedStack = LocalStack & { dynamoProxy: FaultProxy; sqsProxy: FaultProxy };

export type UseLocalStackOptions<C extends HeadendChoice = { protocol?: 'generic' }> = LocalStackOptions<C> & {
  /**
   * Put the functions behind fault proxies (and use FAST_PROCESSING_ENV under `env`); the stack's own clients,
   * which the tests read with, still reach the real services.
   */
  faultProxies?: boolean;
};

/**
 * The local stack for the tests of one file: started (on a free port) before them, stopped after them. Answers
 * its accessor, valid from the first test on.
 */
export function useLocalStack(options: UseLocalStackOptions & { faultProxies: true }): () => ProxiedStack;
export function useLocalStack(options?: UseLocalStackOptions): () => LocalStack;
/** A stack on another headend: the CAG simulator, or an external headend (no simulator). */
export function useLocalStack<C extends HeadendChoice>(
  options: UseLocalStackOptions<C> & { headend: C },
): () => LocalStack<SimulatorOf<C>>;
export function useLocalStack({
  faultProxies,
  ...options
}: UseLocalStackOptions<HeadendChoice> = {}): () => LocalStack<unknown> {
  let started: LocalStack<unknown> | ProxiedStack | undefined;
  let proxies: FaultProxy[] = [];

  beforeAll(async () => {
    if (!faultProxies) {
      started = await startLocalStack({ port: 0, ...options });
      return;
    }
    const dynamoProxy = await startFaultProxy();
    const sqsProxy = await startFaultProxy();
    proxies = [dynamoProxy, sqsProxy];
    const stack = await startLocalStack({
      port: 0,
      ...options,
      env: {
        ...FAST_PROCESSING_ENV,
        ...options.env,
        AWS_ENDPOINT_URL_DYNAMODB: dynamoProxy.url,
        AWS_ENDPOINT_URL_SQS: sqsProxy.url,
      },
    });
    dynamoProxy.setTarget(stack.dynamoEndpoint);
    sqsProxy.setTarget(stack.sqsEndpoint);
    started = { ...stack, dynamoProxy, sqsProxy };
  });

  afterAll(async () => {
    await started?.stop();
    for (const proxy of proxies) await proxy.stop();
  });

  return () => {
    if (started === undefined) throw new Error('the local stack is not started yet (it starts in beforeAll)');
    return started;
  };
}

/**
 * The local stack of a test file with its worker on `cag`, a CAG server the stack did not start (SPEC §5:
 * `HEADEND_URL` and the `HEADEND_CAG_*` settings): fast processing, code 0 as OK and 10035 as transient, logs at
 * DEBUG so that the test sees every line a token could leak into. `cag` is stopped after the file's tests.
 */
export const useExternalCagStack = (
  cag: { readonly url: string; readonly tokenUrl: string; stop(): Promise<void> },
  site: CagSite,
) => {
  const stack = useLocalStack({
    headend: { protocol: 'nagra-cag', external: true },
    processingIntervalMs: 500,
    env: {
      ...FAST_PROCESSING_ENV,
      HEADEND_TIMEOUT_MS: '2000',
      ...cagEnvironment(cag, site),
      HEADEND_CAG_OK_CODES: '0',
      HEADEND_CAG_TRANSIENT_CODES: '10035',
      POWERTOOLS_LOG_LEVEL: 'DEBUG',
    },
  });
  afterAll(() => cag.stop());
  return stack;
};
