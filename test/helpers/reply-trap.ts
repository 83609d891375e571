import { createServer, Socket } from 'node:net';

/**
 * A pass-through TCP relay put behind a fault proxy (`proxy.setTarget(trap.url)`), for the faults the proxy cannot
 * stage alone: a dependency that starts hanging **at one chosen request** (the worker's claim, its final write, the
 * processing run's hand-on …), found by its text rather than by counting, since background functions share the
 * connection pool. `arm(match, onTrap, at)` watches the requests passing; for the first one whose text matches:
 * - `at: 'request'`: `onTrap` (e.g. the proxy's `blackHole()`) is called and the request is not forwarded: the
 *   dependency hangs just before applying it;
 * - `at: 'reply'`: the request is forwarded and applied, and when the service's reply comes back `onTrap` is called
 *   before that reply would be written, which is then dropped with the connection: the write is done, its reply
 *   is lost, **and the dependency stays down** for every retry.
 * Either way the client sees a silent connection, and only its own timeout ends the call.
 */
export type ReplyTrap = {
  url: string;
  /** Arms the trap for the first request whose text (headers and body so far) matches. */
  arm(match: RegExp, onTrap: () => void, at?: 'request' | 'reply'): void;
  /** Takes an armed trap back (one that never sprang). */
  disarm(): void;
  /** How many times the trap has sprung. */
  sprung(): number;
  stop(): Promise<void>;
};

export const startReplyTrap = async (targetUrl: string): Promise<ReplyTrap> => {
  const target = new URL(targetUrl);
  let armed: { match: RegExp; onTrap: () => void; at: 'request' | 'reply' } | undefined;
  let sprung = 0;
  const open = new Set<Socket>();

  const server = createServer((client) => {
    const upstream = new Socket();
    open.add(client);
    open.add(upstream);
    // The text of the request in flight on this connection: HTTP/1.1 without pipelining (the SDK's way), so a
    // reply always ends the request before it.
    let request = '';
    let doomed: (() => void) | undefined;
    const drop = () => {
      open.delete(client);
      open.delete(upstream);
      client.destroy();
      upstream.destroy();
    };
    client.on('error', drop);
    client.on('close', drop);
    upstream.on('error', drop);
    upstream.on('close', drop);
    client.on('data', (chunk: Buffer) => {
      request += chunk.toString('latin1');
      if (armed && doomed === undefined && armed.match.test(request)) {
        const { onTrap, at } = armed;
        armed = undefined;
        if (at === 'request') {
          // The service has seen at most a part of the request: it is dropped unapplied.
          sprung += 1;
          onTrap();
          drop();
          return;
        }
        doomed = onTrap;
      }
      upstream.write(chunk);
    });
    upstream.on('data', (chunk: Buffer) => {
      if (doomed) {
        // The service has applied the request: take the dependency down first, then lose the reply.
        const onTrap = doomed;
        doomed = undefined;
        sprung += 1;
        onTrap();
        drop();
        return;
      }
      request = '';
      client.write(chunk);
    });
    upstream.connect(Number(target.port), target.hostname);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  return {
    url: `http://127.0.0.1:${port}`,
    arm: (match, onTrap, at = 'reply') => {
      armed = { match, onTrap, at };
    },
    disarm: () => {
      armed = undefined;
    },
    sprung: () => sprung,
    stop: () =>
      new Promise<void>((resolve) => {
        for (const socket of open) socket.destroy();
        server.close(() => resolve());
      }),
  };
};
