import { createServer, type IncomingMessage, Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/**
 * A local HTTP receiver standing in for what `EVENTS_WEBHOOK_URL` points at (SPEC §3.1, §5): it records every POST
 * and answers as the test says — 200, an error status, no answer at all, or no listener (connections refused) — so
 * a test can play a bus that is briefly unavailable and then check, as a consumer would, what arrived.
 */

/** The whole EventBridge event, as a rule's target receives it (SPEC §3.1 names the fields that must be there). */
export type EventBridgeEvent = {
  version: string;
  id: string;
  'detail-type': string;
  source: string;
  time: string;
  // biome-ignore lint/suspicious/noExplicitAny: event details are inspected freely by the tests
  detail: Record<string, any>;
  [field: string]: unknown;
};

/** One POST received: its parsed body (undefined when not JSON), its raw text and how it was answered. */
export type Delivery = { body: EventBridgeEvent | undefined; text: string; contentType: string; answered: number };

/** How the receiver answers: 200; a given HTTP status; never (the connection is held open until `accept`). */
export type WebhookMode = { kind: 'accept' } | { kind: 'refuse'; status: number } | { kind: 'hang' };

export type WebhookReceiver = {
  url: string;
  /** Every POST received so far, in arrival order, however it was answered. */
  deliveries(): Delivery[];
  /** The events a consumer took: the bodies it answered 2xx. */
  accepted(): EventBridgeEvent[];
  /** Accepted events grouped by `detail.id`, the key consumers dedupe on (SPEC §3.1). */
  acceptedByRequest(): Map<string, EventBridgeEvent[]>;
  setMode(mode: WebhookMode): void;
  /** Stops listening (new connections are refused, open ones closed), keeping the port for `comeBack`. */
  goDown(): Promise<void>;
  comeBack(): Promise<void>;
  stop(): Promise<void>;
};

const readText = async (req: IncomingMessage): Promise<string> => {
  const chunks: Buffer[] = [];
  for await (const chunk of req) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
};

const parse = (text: string): EventBridgeEvent | undefined => {
  try {
    const value = JSON.parse(text) as unknown;
    return value !== null && typeof value === 'object' && !Array.isArray(value)
      ? (value as EventBridgeEvent)
      : undefined;
  } catch {
    return undefined;
  }
};

export const startWebhookReceiver = async (): Promise<WebhookReceiver> => {
  const deliveries: Delivery[] = [];
  let mode: WebhookMode = { kind: 'accept' };
  /** Answers held by `hang`, sent (as 503, since the consumer never took them) when the mode changes or on stop. */
  const hung = new Set<ServerResponse>();

  const releaseHung = () => {
    for (const res of hung) if (!res.destroyed) res.writeHead(503).end();
    hung.clear();
  };

  const server = createServer(async (req, res) => {
    const text = await readText(req);
    const contentType = String(req.headers['content-type'] ?? '');
    if (req.method !== 'POST') {
      res.writeHead(405).end();
      return;
    }
    const current = mode;
    if (current.kind === 'hang') {
      // Recorded as never answered: the publisher's own timeout ends it, so nothing was acknowledged.
      deliveries.push({ body: parse(text), text, contentType, answered: 0 });
      hung.add(res);
      return;
    }
    const status = current.kind === 'accept' ? 200 : current.status;
    deliveries.push({ body: parse(text), text, contentType, answered: status });
    res.writeHead(status, { 'content-type': 'application/json' }).end('{}');
  });

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  const accepted = () =>
    deliveries.flatMap((d) => (d.answered >= 200 && d.answered < 300 && d.body !== undefined ? [d.body] : []));

  return {
    url: `http://127.0.0.1:${port}/events`,
    deliveries: () => [...deliveries],
    accepted,
    acceptedByRequest() {
      const byId = new Map<string, EventBridgeEvent[]>();
      for (const event of accepted()) {
        const id = String(event.detail?.id);
        byId.set(id, [...(byId.get(id) ?? []), event]);
      }
      return byId;
    },
    setMode(next) {
      mode = next;
      if (next.kind !== 'hang') releaseHung();
    },
    // Node's own close/listen on the same port, as the local stack does for dynalite: refused while down.
    goDown: () =>
      new Promise((resolve) => {
        releaseHung();
        Server.prototype.close.call(server, () => resolve());
        server.closeAllConnections();
      }),
    comeBack: () =>
      new Promise((resolve) => {
        Server.prototype.listen.call(server, { port, host: '127.0.0.1' }, () => resolve());
      }),
    stop: () =>
      new Promise((resolve) => {
        releaseHung();
        if (!server.listening) {
          resolve();
          return;
        }
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
};
