import type * as Http from 'node:http';
import { createRequire } from 'node:module';

/**
 * What the deployed bundles get for `node:http` (an esbuild alias set in infra/constructs/service-function.ts).
 * An ESM import of `node:http` reads every export of the module, and its lazy `WebSocket`, `CloseEvent` and
 * `MessageEvent` load undici with web streams, worker threads and perf hooks: about 15 ms of the API's import
 * here, for one `STATUS_CODES` that @middy/util imports (nodejs/node#59686). `require` returns the same module
 * object and reads none of them. The AWS SDK imports `node:http` lazily and only for an `http://` endpoint; it gets
 * the same module through `default`. A static import of a name missing here fails the bundle build, not a call.
 */
const http: typeof Http = createRequire(import.meta.url)('node:http');

export default http;
export const { Agent, STATUS_CODES, request } = http;
