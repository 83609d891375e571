import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { invoke } from './bundle-harness/invoke.ts';
import type { DeployedFunction } from './bundle-harness/synth.ts';

/** The bundle test's Lambda invoker on code written here: what it passes, and that it fails when Lambda would. */

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

const functionWith = (code: string, settings: Partial<DeployedFunction> = {}): DeployedFunction => {
  const codeDir = mkdtempSync(join(tmpdir(), 'lambda-invoke-'));
  dirs.push(codeDir);
  writeFileSync(join(codeDir, 'index.mjs'), code);
  return {
    stack: 'test',
    logicalId: 'Fn',
    handler: 'index.handler',
    runtime: 'nodejs24.x',
    timeoutSeconds: 3,
    memoryMb: 128,
    variables: {},
    codeDir,
    ...settings,
  };
};

const ENVIRONMENT = {
  _HANDLER: 'index.handler',
  AWS_LAMBDA_FUNCTION_NAME: 'fn',
  AWS_LAMBDA_FUNCTION_MEMORY_SIZE: '128',
  GREETING: 'hello',
};
const ARN = 'arn:aws:lambda:us-east-1:000000000000:function:fn';

describe('invoke', () => {
  it('calls the exported handler with the event and a context, in the code directory, under the environment', async () => {
    const fn = functionWith(`export const handler = async (event, context) => ({
      event, cwd: process.cwd(), greeting: process.env.GREETING, home: process.env.HOME ?? null,
      name: context.functionName, arn: context.invokedFunctionArn, memory: context.memoryLimitInMB,
      remaining: context.getRemainingTimeInMillis(), requestId: context.awsRequestId,
      trace: process.env._X_AMZN_TRACE_ID,
    });`);
    const { result } = await invoke(fn, { ...ENVIRONMENT, LAMBDA_TASK_ROOT: fn.codeDir }, ARN, { n: 1 });
    expect(result).toMatchObject({
      event: { n: 1 },
      cwd: fn.codeDir,
      greeting: 'hello',
      home: null,
      name: 'fn',
      arn: ARN,
      memory: '128',
      requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      trace: expect.stringMatching(/^Root=1-/),
    });
    expect((result as { remaining: number }).remaining).toBeGreaterThan(0);
    expect((result as { remaining: number }).remaining).toBeLessThanOrEqual(3000);
  });

  it('rejects with the error a handler throws, and its logs', async () => {
    const fn = functionWith(
      `export const handler = async () => { console.log('about to fail'); throw new TypeError('broken'); };`,
    );
    await expect(invoke(fn, { ...ENVIRONMENT, LAMBDA_TASK_ROOT: fn.codeDir }, ARN, {})).rejects.toThrow(
      /TypeError: broken[\s\S]*about to fail/,
    );
  });

  it('rejects code whose module does not import, or that has no such handler', async () => {
    const broken = functionWith(`import 'not-bundled'; export const handler = async () => 1;`);
    await expect(invoke(broken, { ...ENVIRONMENT, LAMBDA_TASK_ROOT: broken.codeDir }, ARN, {})).rejects.toThrow(
      /Runtime.ImportModuleError/,
    );
    const unnamed = functionWith('export const main = async () => 1;');
    await expect(invoke(unnamed, { ...ENVIRONMENT, LAMBDA_TASK_ROOT: unnamed.codeDir }, ARN, {})).rejects.toThrow(
      /Runtime.HandlerNotFound/,
    );
  });

  it('kills an invocation that outlives the function’s timeout', async () => {
    const fn = functionWith('export const handler = () => new Promise(() => setInterval(() => {}, 1000));', {
      timeoutSeconds: 1,
    });
    await expect(invoke(fn, { ...ENVIRONMENT, LAMBDA_TASK_ROOT: fn.codeDir }, ARN, {})).rejects.toThrow(
      /outlived its timeout of 1 s/,
    );
  });
});
