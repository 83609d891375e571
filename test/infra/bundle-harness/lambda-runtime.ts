import { existsSync, readFileSync, writeSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

/**
 * What Lambda's Node.js runtime does with a function's code, for one invocation, in a process of its own whose
 * environment is the function's: resolve `_HANDLER` in `LAMBDA_TASK_ROOT`, import the module (init), then call
 * the exported handler with the event and a context, and report the result. Only Node built-ins here: nothing
 * of the project may be on hand that the deployed code would not have.
 *
 * Input: one JSON invocation on stdin. Output: one JSON line per step on file descriptor 3 (`invoke` once init is
 * done, then `result` or `error`); stdout and stderr are the function's logs.
 */

type Invocation = {
  readonly event: unknown;
  readonly requestId: string;
  readonly invokedFunctionArn: string;
  readonly traceId: string;
  readonly timeoutMs: number;
};

const report = (message: Record<string, unknown>) => writeSync(3, `${JSON.stringify(message)}\n`);

function fail(errorType: string, error: unknown): never {
  const { message, stack } = error instanceof Error ? error : { message: String(error), stack: undefined };
  report({ type: 'error', errorType, errorMessage: message, stack });
  process.exit(1);
}

const invocation = JSON.parse(readFileSync(0, 'utf8')) as Invocation;
const env = process.env;

// `index.handler`: the module path up to the first dot, then the (possibly nested) export.
const handlerSetting = /^([^.]+)\.(.+)$/.exec(env._HANDLER ?? '');
if (!handlerSetting) fail('Runtime.MalformedHandlerName', new Error(`Bad handler ${env._HANDLER}`));
const [, modulePath = '', exportPath = ''] = handlerSetting;
const moduleBase = join(env.LAMBDA_TASK_ROOT ?? '', modulePath);
// The runtime's own order of extensions.
const moduleFile = ['.js', '.mjs', '.cjs'].map((extension) => `${moduleBase}${extension}`).find(existsSync);
if (!moduleFile) fail('Runtime.ImportModuleError', new Error(`Cannot find module '${modulePath}'`));

let handler: unknown;
try {
  const module: unknown = await import(pathToFileURL(moduleFile).href);
  handler = exportPath.split('.').reduce((value, key) => (value as Record<string, unknown> | undefined)?.[key], module);
} catch (error) {
  fail('Runtime.ImportModuleError', error);
}
if (typeof handler !== 'function') fail('Runtime.HandlerNotFound', new Error(`${env._HANDLER} is undefined`));

report({ type: 'invoke' });
const deadline = Date.now() + invocation.timeoutMs;
env._X_AMZN_TRACE_ID = invocation.traceId;
const context = {
  callbackWaitsForEmptyEventLoop: true,
  functionName: env.AWS_LAMBDA_FUNCTION_NAME,
  functionVersion: env.AWS_LAMBDA_FUNCTION_VERSION,
  invokedFunctionArn: invocation.invokedFunctionArn,
  memoryLimitInMB: env.AWS_LAMBDA_FUNCTION_MEMORY_SIZE,
  awsRequestId: invocation.requestId,
  logGroupName: env.AWS_LAMBDA_LOG_GROUP_NAME,
  logStreamName: env.AWS_LAMBDA_LOG_STREAM_NAME,
  getRemainingTimeInMillis: () => Math.max(0, deadline - Date.now()),
};

try {
  const returned = (handler as (event: unknown, context: unknown) => unknown)(invocation.event, context);
  // The nodejs24.x runtime calls handlers without a callback: a handler must return a promise (the error type
  // is this runner's own name for that).
  if (typeof (returned as Promise<unknown> | undefined)?.then !== 'function') {
    fail('Runtime.HandlerNotAsync', new Error('The handler did not return a promise'));
  }
  // Serialized as Lambda serializes a result: JSON, `undefined` as null.
  report({ type: 'result', result: JSON.parse(JSON.stringify((await returned) ?? null)) });
} catch (error) {
  fail(error instanceof Error ? error.name : 'Error', error);
}
// Lambda freezes the process here; this one is done: open sockets must not keep it alive.
process.exit(0);
