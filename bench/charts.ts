/**
 * Redraws bench/charts/*.svg from bench/results.json, without running the bench: `npx node bench/charts.ts`.
 * `npm run bench` draws them itself after writing results.json.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { type ChartedResults, writeCharts } from './lib/charts.ts';

const results = JSON.parse(readFileSync(join(import.meta.dirname, 'results.json'), 'utf8')) as ChartedResults;
for (const file of await writeCharts(results, join(import.meta.dirname, 'charts'))) console.log(`wrote ${file}`);
