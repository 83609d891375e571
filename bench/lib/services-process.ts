import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { join } from 'node:path';
import { createInterface } from 'node:readline';

export type ServicesProcess = {
  dynamoEndpoint: string;
  sqsEndpoint: string;
  queueUrl: string;
  stop(): Promise<void>;
};

/**
 * dynalite and fauxqs in a process of their own (bench/scenarios/services-server.ts), with the service's table
 * created as `table`: as DynamoDB and SQS are remote to a Lambda.
 */
export const startServicesProcess = async (table: string): Promise<ServicesProcess> => {
  const services = spawn(
    process.execPath,
    [join(import.meta.dirname, '..', 'scenarios', 'services-server.ts'), table],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  const [line] = (await once(createInterface({ input: services.stdout }), 'line')) as [string];
  const endpoints = JSON.parse(line) as Omit<ServicesProcess, 'stop'>;
  return {
    ...endpoints,
    async stop() {
      services.stdin.end();
      await once(services, 'exit');
    },
  };
};
