import { apiEnvironment } from '../../functions/api/environment.ts';
import { processingRunEnvironment } from '../../functions/processing-run/environment.ts';
import { workerEnvironment } from '../../functions/worker/environment.ts';

/** Each function's environment schema by function name suffix, for the stacks' checks and the documentation's. */
export const ENVIRONMENTS = {
  api: apiEnvironment,
  'processing-run': processingRunEnvironment,
  worker: workerEnvironment,
} as const;
