import { readFile, writeFile } from 'node:fs/promises';
import { openApiJson } from './openapi.ts';

/** `npm run openapi`: regenerates docs/openapi.json from the route list and the zod schemas. */
const root = new URL('../../', import.meta.url);
const { version } = JSON.parse(await readFile(new URL('package.json', root), 'utf8')) as { version: string };
const target = new URL('docs/openapi.json', root);
await writeFile(target, openApiJson(version));
console.log(`Wrote ${target.pathname}`);
