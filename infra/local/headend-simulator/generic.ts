import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FaultGate } from './faults.ts';
import { digest, type Protocol, parseJsonObject, reply, sameSecret } from './http.ts';

export type GenericSimulatorSettings = {
  secret: string;
  knownCards: readonly string[];
};

export interface GenericSimulatorControls {
  /** How many times the command of this transaction was executed (0 or 1 for a correct headend). */
  executions(transactionId: string): number;
  totalExecutions(): number;
  maxExecutionsPerTransaction(): number;
}

const COMMAND_FIELDS = new Set(['command', 'transaction_id', 'smartcard_ca_id', 'priority']);

type Reply = { status: number; body: Record<string, unknown> };
type Command = { transactionId: string; smartcardCaId: string };

/** SPEC §4.1: `POST /commands` with a bearer secret, idempotent on `transaction_id`; `gate` plays the faults. */
export function createGenericProtocol(
  settings: GenericSimulatorSettings,
  gate: FaultGate,
): Protocol & { controls: GenericSimulatorControls } {
  const secretDigest = digest(settings.secret);
  const knownCards = new Set(settings.knownCards);
  const results = new Map<string, Reply>();
  const executionCounts = new Map<string, number>();

  function execute(command: Command): Reply {
    executionCounts.set(command.transactionId, (executionCounts.get(command.transactionId) ?? 0) + 1);
    if (knownCards.has(command.smartcardCaId)) {
      return {
        status: 200,
        body: { result: 'ACCEPTED', reference_number: randomUUID().replaceAll('-', '').toUpperCase() },
      };
    }
    return {
      status: 422,
      body: {
        result: 'REJECTED',
        error_code: 'UNKNOWN_SMARTCARD',
        error_description: `The headend does not know the smartcard CA id ${command.smartcardCaId}.`,
      },
    };
  }

  async function handleCommand(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const admitted = await gate.admit(req, res);
    if (admitted === undefined) return;
    if (!authorized(req.headers.authorization, secretDigest)) return reply(res, 401, { result: 'UNAUTHORIZED' });
    if (admitted.body === undefined) {
      return reply(res, 413, { result: 'BAD_REQUEST', error_description: 'Body too large.' });
    }
    const parsed = parseCommand(admitted.body);
    if (typeof parsed === 'string') return reply(res, 400, { result: 'BAD_REQUEST', error_description: parsed });
    let result = results.get(parsed.transactionId);
    if (result === undefined) {
      result = execute(parsed);
      results.set(parsed.transactionId, result);
    }
    return reply(res, result.status, result.body);
  }

  function totalExecutions(): number {
    let total = 0;
    for (const count of executionCounts.values()) total += count;
    return total;
  }

  function maxExecutionsPerTransaction(): number {
    let max = 0;
    for (const count of executionCounts.values()) max = Math.max(max, count);
    return max;
  }

  return {
    route(req, res, path) {
      if (path !== '/commands') return undefined;
      if (req.method !== 'POST') return Promise.resolve(reply(res, 405, { result: 'METHOD_NOT_ALLOWED' }));
      return handleCommand(req, res);
    },
    stats: () => ({
      calls: gate.calls(),
      executions: totalExecutions(),
      maxExecutionsPerTransaction: maxExecutionsPerTransaction(),
      maxInFlight: gate.maxInFlight(),
    }),
    reset() {
      results.clear();
      executionCounts.clear();
    },
    controls: {
      executions: (transactionId) => executionCounts.get(transactionId) ?? 0,
      totalExecutions,
      maxExecutionsPerTransaction,
    },
  };
}

function authorized(header: string | undefined, expected: Buffer): boolean {
  const match = /^Bearer[ \t]+(\S+)\s*$/i.exec(header ?? '');
  return match?.[1] !== undefined && sameSecret(match[1], expected);
}

/** The command, or a description of what is wrong with the body. */
function parseCommand(raw: string): Command | string {
  const body = parseJsonObject(raw);
  if (body === undefined) return 'The body is not a JSON object.';
  const unknown = Object.keys(body).find((key) => !COMMAND_FIELDS.has(key));
  if (unknown !== undefined) return `Unknown field ${unknown}.`;
  if (body.command !== 'CLEAR_PIN') return 'command must be CLEAR_PIN.';
  if (typeof body.transaction_id !== 'string' || body.transaction_id === '') {
    return 'transaction_id must be a non-empty string.';
  }
  if (typeof body.smartcard_ca_id !== 'string' || body.smartcard_ca_id === '') {
    return 'smartcard_ca_id must be a non-empty string.';
  }
  if (body.priority !== 'REGULAR' && body.priority !== 'EXPRESS') return 'priority must be REGULAR or EXPRESS.';
  return { transactionId: body.transaction_id, smartcardCaId: body.smartcard_ca_id };
}
