import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const ROOT = join(import.meta.dirname, '..', '..');
// A scratch tree with the project's biome.json, so that a would-be file is linted at its path without ever
// being written into the sources.
const SCRATCH = mkdtempSync(join(tmpdir(), 'layering-'));
copyFileSync(join(ROOT, 'biome.json'), join(SCRATCH, 'biome.json'));
afterAll(() => rmSync(SCRATCH, { recursive: true, force: true }));

/** `npm run lint`'s Biome rules on one file placed at `path`. */
const lint = (path: string, source: string) => {
  const file = join(SCRATCH, path);
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(file, source);
  const run = spawnSync(
    process.execPath,
    [join(ROOT, 'node_modules/@biomejs/biome/bin/biome'), 'lint', '--error-on-warnings', path],
    { cwd: SCRATCH, encoding: 'utf8' },
  );
  rmSync(file);
  return { ok: run.status === 0, output: `${run.stdout}${run.stderr}` };
};

describe('the layering rules of biome.json (README: Architecture)', () => {
  it('fail a use case that imports an adapter', () => {
    const result = lint(
      'functions/use-cases/example.ts',
      "import { createRequestStore } from '../adapters/dynamo/requests.ts';\nexport const store = createRequestStore;\n",
    );
    expect(result.ok).toBe(false);
    expect(result.output).toContain('noRestrictedImports');
  });

  it('fail a use case or a domain module that imports an AWS SDK or the platform', () => {
    expect(lint('functions/use-cases/example.ts', "export * from '@aws-sdk/client-sqs';\n").ok).toBe(false);
    expect(lint('functions/domain/example.ts', "export { logger } from '../platform/observability.ts';\n").ok).toBe(
      false,
    );
  });

  it('fail a domain module that imports a use case', () => {
    expect(lint('functions/domain/example.ts', "export type { Log } from '../use-cases/ports.ts';\n").ok).toBe(false);
  });

  it('pass a use case that imports the domain and its ports', () => {
    const result = lint(
      'functions/use-cases/example.ts',
      "import { newId } from '../domain/identifiers.ts';\nimport type { Log } from './ports.ts';\nexport const f = (log: Log) => log.info(newId());\n",
    );
    expect(result.output).not.toContain('noRestrictedImports');
    expect(result.ok).toBe(true);
  });
});
