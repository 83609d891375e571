import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A local server a test points a client at, and how to stop it (open connections included). */
export type LocalEndpoint = { readonly endpoint: string; stop(): Promise<void> };

/** Listens on a free loopback port. */
export const listenLocally = async (server: Server): Promise<LocalEndpoint> => {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    stop: () =>
      new Promise((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
};
