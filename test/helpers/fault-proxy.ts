import { createServer, Socket } from 'node:net';

/**
 * A TCP proxy put between the functions and DynamoDB or SQS (through `AWS_ENDPOINT_URL_*`), so a test can make a
 * dependency fail for the functions while itself still reading the real service directly.
 * - `cut()`: every open connection is reset and every new one is reset on arrival (ECONNRESET).
 * - `cutAfterRequests(n)`: lets n more HTTP requests through, then behaves as `cut()` when the next one arrives.
 * - `loseReplyAfterRequests(n)`: lets n more HTTP requests through; the next one reaches the service but its
 *   connection is reset before the reply gets back (a network blip: later traffic passes again).
 * - `blackHole()`: connections are accepted and then nothing: no byte answered, none forwarded, never closed by
 *   the proxy (a dropped route or a hung peer), so only the client's own timeout ends a call. Open connections go
 *   silent too, since a client reuses pooled keep-alive connections. A connection silenced once stays silent after
 *   `restore()` (its stream has lost bytes); the client's timeout or `stop()` ends it.
 * - `restore()`: new connections pass again.
 */
export type FaultProxy = {
  url: string;
  setTarget(url: string): void;
  cut(): void;
  cutAfterRequests(requests: number): void;
  loseReplyAfterRequests(requests: number): void;
  blackHole(): void;
  restore(): void;
  stop(): Promise<void>;
};

const REQUEST_LINE = /(?:^|\r\n)(?:GET|POST|PUT|DELETE|HEAD) \S+ HTTP\/1\.[01]\r\n/g;

type Connection = { client: Socket; upstream: Socket | undefined; silent: boolean };

export const startFaultProxy = async (): Promise<FaultProxy> => {
  let target: URL | undefined;
  let mode: 'pass' | 'cut' | 'black-hole' = 'pass';
  let allowance: number | undefined;
  let loseReply = false;
  const open = new Set<Connection>();

  const silence = (connection: Connection) => {
    connection.silent = true;
    connection.upstream?.destroy();
    connection.upstream = undefined;
  };

  const cut = () => {
    mode = 'cut';
    allowance = undefined;
    for (const { client, upstream } of open) {
      client.resetAndDestroy();
      upstream?.resetAndDestroy();
    }
    open.clear();
  };

  const server = createServer((client) => {
    if (mode === 'cut' || target === undefined) {
      client.resetAndDestroy();
      return;
    }
    const connection: Connection = { client, upstream: undefined, silent: false };
    open.add(connection);
    const drop = () => {
      open.delete(connection);
      if (!client.destroyed) client.destroy();
      connection.upstream?.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    if (mode === 'black-hole') {
      connection.silent = true;
      // Read and drop, so the proxy still notices when the client gives up and closes.
      client.resume();
      return;
    }
    const upstream = new Socket();
    connection.upstream = upstream;
    let doomed = false;
    upstream.on('error', drop);
    upstream.on('close', () => {
      if (!connection.silent) drop();
    });
    client.on('data', (chunk: Buffer) => {
      if (mode === 'cut' || connection.silent) return;
      const requests = chunk.toString('latin1').match(REQUEST_LINE)?.length ?? 0;
      if (allowance !== undefined && requests > 0) {
        if (allowance < requests) {
          if (!loseReply) {
            cut();
            return;
          }
          allowance = undefined;
          doomed = true;
        } else {
          allowance -= requests;
        }
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (doomed) {
        open.delete(connection);
        client.resetAndDestroy();
        upstream.destroy();
        return;
      }
      if (mode !== 'cut' && !connection.silent) client.write(chunk);
    });
    upstream.connect(Number(target.port), target.hostname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    setTarget: (url) => {
      target = new URL(url);
    },
    cut,
    cutAfterRequests: (requests) => {
      allowance = requests;
      loseReply = false;
    },
    loseReplyAfterRequests: (requests) => {
      allowance = requests;
      loseReply = true;
    },
    blackHole: () => {
      mode = 'black-hole';
      allowance = undefined;
      for (const connection of open) silence(connection);
    },
    restore: () => {
      mode = 'pass';
      allowance = undefined;
    },
    stop: () =>
      new Promise<void>((resolve) => {
        cut();
        server.close(() => resolve());
      }),
  };
};
