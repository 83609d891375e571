import { createServer, request as httpRequest } from 'node:http';
import { type LocalEndpoint, listenLocally } from '../../helpers/local-server.ts';
import type { RecordedCall } from './grants.ts';

/** A call as the proxy saw it, with the access key that signed it: whose role sent it. */
export type SignedCall = RecordedCall & { readonly accessKeyId: string | undefined };

/** SigV4: `Authorization: AWS4-HMAC-SHA256 Credential=<access key id>/<date>/<region>/<service>/aws4_request, …`. */
const accessKeyOf = (authorization: string | undefined) => /Credential=([^/,\s]+)\//.exec(authorization ?? '')?.[1];

const parseBody = (text: string): unknown => {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
};

/**
 * An HTTP proxy in front of one local AWS service: it passes every request through unchanged and records its
 * operation (`X-Amz-Target`), its JSON body and the access key it was signed with.
 */
export const startRecordingProxy = (upstream: string, record: (call: SignedCall) => void): Promise<LocalEndpoint> => {
  const target = new URL(upstream);
  const server = createServer((incoming, outgoing) => {
    const chunks: Buffer[] = [];
    incoming.on('data', (chunk: Buffer) => chunks.push(chunk));
    incoming.on('end', () => {
      const body = Buffer.concat(chunks);
      const operation = incoming.headers['x-amz-target'];
      record({
        target: typeof operation === 'string' ? operation : undefined,
        body: parseBody(body.toString('utf8')),
        accessKeyId: accessKeyOf(incoming.headers.authorization),
      });
      const forwarded = httpRequest(
        {
          host: target.hostname,
          port: target.port,
          method: incoming.method,
          path: incoming.url,
          headers: incoming.headers,
        },
        (answer) => {
          outgoing.writeHead(answer.statusCode ?? 502, answer.headers);
          answer.pipe(outgoing);
        },
      );
      forwarded.on('error', () => outgoing.destroy());
      forwarded.end(body);
    });
  });
  return listenLocally(server);
};
