import { spawn } from 'node:child_process';
import { randomBytes, randomUUID } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import type { DeployedFunction } from './synth.ts';

const RUNTIME = fileURLToPath(new URL('./lambda-runtime.ts', import.meta.url));

/** Lambda's limit on a function's init (the module import), separate from its timeout. */
const INIT_LIMIT_MS = 10_000;

export type Invocation = { readonly result: unknown; readonly logs: string };

type RuntimeMessage = { type: 'invoke' } | { type: 'result'; result: unknown } | ({ type: 'error' } & LambdaError);
type LambdaError = { errorType: string; errorMessage: string; stack?: string };

/** An X-Ray trace header as Lambda passes it to a traced function. */
const traceHeader = () =>
  `Root=1-${Math.floor(Date.now() / 1000).toString(16)}-${randomBytes(12).toString('hex')};Parent=${randomBytes(8).toString('hex')};Sampled=1`;

/**
 * Invokes a function's code as Lambda does: a fresh Node process (this Node, the 24 the runtime runs) with
 * exactly `environment`, in the code's directory, its heap capped below the function's memory. The process is
 * killed when its init outlives Lambda's init limit or its invocation the function's timeout; either, like a
 * thrown error or an exit without a result, rejects with the function's logs.
 */
export const invoke = (
  fn: DeployedFunction,
  environment: Readonly<Record<string, string>>,
  invokedFunctionArn: string,
  event: unknown,
): Promise<Invocation> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [`--max-old-space-size=${Math.floor(fn.memoryMb * 0.9)}`, RUNTIME], {
      cwd: fn.codeDir,
      env: environment,
      stdio: ['pipe', 'pipe', 'pipe', 'pipe'],
    });
    const timeoutMs = fn.timeoutSeconds * 1000;
    let logs = '';
    let outcome: RuntimeMessage | undefined;
    let killedFor: string | undefined;
    const kill = (reason: string) => {
      killedFor = reason;
      child.kill('SIGKILL');
    };
    let timer = setTimeout(() => kill(`its init outlived Lambda's ${INIT_LIMIT_MS} ms`), INIT_LIMIT_MS);
    child.stdout.on('data', (chunk) => {
      logs += String(chunk);
    });
    child.stderr.on('data', (chunk) => {
      logs += String(chunk);
    });
    let pending = '';
    child.stdio[3]?.on('data', (chunk) => {
      pending += String(chunk);
      for (let end = pending.indexOf('\n'); end >= 0; end = pending.indexOf('\n')) {
        const message = JSON.parse(pending.slice(0, end)) as RuntimeMessage;
        pending = pending.slice(end + 1);
        if (message.type === 'invoke') {
          clearTimeout(timer);
          timer = setTimeout(() => kill(`it outlived its timeout of ${fn.timeoutSeconds} s`), timeoutMs);
        } else {
          outcome = message;
        }
      }
    });
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      const name = `${fn.stack}/${fn.logicalId}`;
      if (killedFor) return reject(new Error(`${name} was killed: ${killedFor}\n--- logs ---\n${logs}`));
      if (outcome?.type === 'result') return resolve({ result: outcome.result, logs });
      if (outcome?.type === 'error') {
        return reject(
          new Error(
            `${name} failed: ${outcome.errorType}: ${outcome.errorMessage}\n${outcome.stack}\n--- logs ---\n${logs}`,
          ),
        );
      }
      reject(new Error(`${name} exited (${signal ?? code}) without a result\n--- logs ---\n${logs}`));
    });
    child.stdin.end(
      JSON.stringify({ event, requestId: randomUUID(), invokedFunctionArn, traceId: traceHeader(), timeoutMs }),
    );
  });
