/**
 * Captures everything the process writes to stdout and stderr and through `console` (Powertools' logger writes
 * JSON lines to process.stdout, as in Lambda) until `restore()`. Captured output is not echoed.
 */
export const captureOutput = () => {
  const chunks: string[] = [];
  const toText = (chunk: unknown) =>
    typeof chunk === 'string' ? chunk : Buffer.from(chunk as Uint8Array).toString('utf8');
  const streams = [process.stdout, process.stderr] as const;
  const originalWrites = streams.map((stream) => stream.write);
  for (const stream of streams) {
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      chunks.push(toText(chunk));
      const callback = rest.find((arg) => typeof arg === 'function') as (() => void) | undefined;
      callback?.();
      return true;
    }) as typeof stream.write;
  }
  const methods = ['log', 'info', 'warn', 'error', 'debug', 'trace'] as const;
  const originalConsole = methods.map((method) => console[method]);
  for (const method of methods) {
    console[method] = (...args: unknown[]) => {
      chunks.push(`${args.map((arg) => (typeof arg === 'string' ? arg : JSON.stringify(arg))).join(' ')}\n`);
    };
  }
  return {
    text: () => chunks.join(''),
    restore: () => {
      streams.forEach((stream, i) => {
        stream.write = originalWrites[i] as typeof stream.write;
      });
      methods.forEach((method, i) => {
        console[method] = originalConsole[i] as (typeof console)[typeof method];
      });
    },
  };
};

/** Everything written while `work` runs, with its result. */
export const outputOf = async <T>(work: () => Promise<T>): Promise<{ result: T; output: string }> => {
  const capture = captureOutput();
  try {
    const result = await work();
    return { result, output: capture.text() };
  } finally {
    capture.restore();
  }
};
