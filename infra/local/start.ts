import { join } from 'node:path';
import { type HeadendChoice, startLocalStack } from './local-stack.ts';

/**
 * `npm start`: the whole service locally, data kept under `.local/` (git-ignored) so a restart loses nothing.
 * PORT overrides the API port; LOCAL_DATA_DIR the data folder; HEADEND_PROTOCOL picks the headend protocol
 * (`generic` or `nagra-cag`), HEADEND_URL an external headend instead of the simulator, and EVENTS_WEBHOOK_URL
 * where each final state's event is POSTed (SPEC §5).
 */
const port = Number(process.env.PORT ?? 3000);
const dataDir = process.env.LOCAL_DATA_DIR ?? join(import.meta.dirname, '..', '..', '.local');
const protocol = process.env.HEADEND_PROTOCOL ?? 'generic';
if (protocol !== 'generic' && protocol !== 'nagra-cag') {
  console.error(`HEADEND_PROTOCOL must be generic or nagra-cag, not "${protocol}"`);
  process.exit(2);
}
const headend: HeadendChoice = { protocol, external: process.env.HEADEND_URL !== undefined };
const stack = await startLocalStack({ port, dataDir, headend });

// The functions read EVENTS_WEBHOOK_URL themselves (functions/platform/environment.ts); this only says where events go.
const eventsLine = process.env.EVENTS_WEBHOOK_URL
  ? `POSTed to ${process.env.EVENTS_WEBHOOK_URL}, one per final state (EVENTS_WEBHOOK_URL)`
  : "not sent anywhere; EVENTS_WEBHOOK_URL=<url> npm start POSTs each final state's event there";
const headendLine = stack.headend
  ? `${stack.headendUrl}   simulator, ${protocol} (admin: GET /admin/stats, PUT /admin/faults)`
  : `${stack.headendUrl}   external, ${protocol}`;
console.log(`
Clear-PIN provisioning service — local stack
  API             ${stack.apiUrl}
  headend         ${headendLine}
  DynamoDB        ${stack.dynamoEndpoint}   table ${stack.tableName}
  SQS             ${stack.sqsEndpoint}   queue ${stack.queueUrl}
  events          ${eventsLine}
  data            ${dataDir}

Demo credentials (organisation CRMDEMO): username MPAdministrator, password 1234
Demo token: A7AD3752AC7B48099A80E62C8F0BE565
Second organisation (CRMOTHER), to try the isolation: username OtherAdmin, password 5678

Try:
  curl -s -X POST ${stack.apiUrl}/nagravision/provisioning_requests/clear_pin -H 'Content-Type: application/json' \\
    -d '{"token":"A7AD3752AC7B48099A80E62C8F0BE565","subscription_identifier":{"number":"S60507"},"smartcard_identifier":{"serial_number":"smrt20000054"}}'
`);

const shutdown = async () => {
  await stack.stop();
  process.exit(0);
};
process.once('SIGINT', shutdown);
process.once('SIGTERM', shutdown);
