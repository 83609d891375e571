import { fromEnv } from '@aws-sdk/credential-provider-env';

/**
 * What the deployed bundles get in place of `@aws-sdk/credential-provider-node` (an esbuild alias set in
 * infra/constructs/service-function.ts). Every SDK client's runtime config imports that package's
 * `defaultProvider` statically, so passing `credentials:` to a client would not keep the default chain out of a
 * bundle: SSO, INI files, credential processes, web identity and container/instance metadata, with the STS and
 * SSO clients they need (about 135 KB of a function's bundle, and their import time at every cold start).
 *
 * Lambda gives a function its role's credentials in the environment (AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
 * AWS_SESSION_TOKEN), which is the first link of the default chain and the only one a function ever reaches; the
 * local stack and the tests set environment credentials too. Code run from source (tests, local stack, tools)
 * never sees this module: it keeps the SDK's default chain.
 *
 * It reads the environment at each signature: a few property reads, so nothing is worth caching.
 */
export const defaultProvider = (init?: Parameters<typeof fromEnv>[0]): ReturnType<typeof fromEnv> => fromEnv(init);
