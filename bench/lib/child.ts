import { spawn } from 'node:child_process';
import { join } from 'node:path';

export const BENCH_DIR = join(import.meta.dirname, '..');

/**
 * Runs a script in a fresh Node process (the handler modules read their environment at import time, so each
 * scenario gets a clean module graph) and answers the JSON object it printed as its last stdout line.
 * stderr passes through, so progress (bench/lib/progress.ts) is visible.
 */
export const runJsonChild = <T>(
  script: string,
  options: { args?: string[]; env?: Record<string, string>; nodeOptions?: string[] } = {},
): Promise<T> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [...(options.nodeOptions ?? []), script, ...(options.args ?? [])], {
      env: { ...process.env, ...options.env },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let stdout = '';
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => {
      stdout += chunk;
    });
    child.once('error', reject);
    child.once('close', (code) => {
      const last = stdout.trim().split('\n').pop() ?? '';
      if (code !== 0) {
        reject(new Error(`${script} exited with ${code}: ${stdout.slice(-2000)}`));
        return;
      }
      try {
        resolve(JSON.parse(last) as T);
      } catch {
        reject(new Error(`${script} printed no JSON result: ${stdout.slice(-2000)}`));
      }
    });
  });

/** Prints a scenario's result for the parent (the last stdout line is the result). */
export const emitResult = (result: unknown): void => {
  process.stdout.write(`${JSON.stringify(result)}\n`);
};
