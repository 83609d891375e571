import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { apiEnvironment } from '../../functions/api/environment.ts';
import { checkedEnvironment } from '../../infra/constructs/service-function.ts';
import { ENVIRONMENTS } from '../../infra/contract/environments.ts';

const ARCHITECTURE = readFileSync(new URL('../../docs/architecture.md', import.meta.url), 'utf8');

/** The variable table of docs/architecture.md: variable → functions, as written. */
const documented = (): Map<string, string[]> => {
  const section = ARCHITECTURE.split('## Runtime contract (environment variables)')[1]?.split('\n## ')[0] ?? '';
  const rows = [...section.matchAll(/^\| `([A-Z0-9_]+)` \| ([^|]+) \|/gm)];
  return new Map(rows.map((row) => [row[1] as string, (row[2] as string).split(',').map((f) => f.trim())]));
};

describe('the environment contract between CDK and the functions', () => {
  it('is documented exactly as the schemas state it: every variable, and the functions that read it', () => {
    const fromSchemas = new Map<string, string[]>();
    for (const [fn, schema] of Object.entries(ENVIRONMENTS)) {
      for (const name of Object.keys(schema.shape)) fromSchemas.set(name, [...(fromSchemas.get(name) ?? []), fn]);
    }
    expect(Object.fromEntries(documented())).toEqual(Object.fromEntries(fromSchemas));
  });

  const required = { TABLE_NAME: 'main', QUEUE_URL: 'https://sqs/q' };

  it('refuses at synth a variable the function does not read', () => {
    expect(() => checkedEnvironment('api', apiEnvironment, { ...required, HEADEND_URL: 'https://x' } as never)).toThrow(
      /Environment of api: .*HEADEND_URL/,
    );
  });

  it('refuses at synth a missing or wrong value, naming it', () => {
    const { TABLE_NAME: _, ...withoutTable } = required;
    expect(() => checkedEnvironment('api', apiEnvironment, withoutTable as never)).toThrow(/TABLE_NAME/);
    expect(() =>
      checkedEnvironment('api', apiEnvironment, { ...required, OPERATOR_TIME_ZONE: 'Mars/Olympus' }),
    ).toThrow(/OPERATOR_TIME_ZONE: not an IANA time zone/);
  });

  it('passes the values through as given, defaults left to the function', () => {
    expect(checkedEnvironment('api', apiEnvironment, { ...required, DUE_SHARDS: undefined })).toEqual(required);
  });
});
