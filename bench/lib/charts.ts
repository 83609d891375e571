import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { parse, View } from 'vega';
import { compile, type TopLevelSpec } from 'vega-lite';
import { DISTRIBUTION_POINTS } from './stats.ts';
import { TARGETS } from './targets.ts';

/**
 * The bench's charts, drawn from results.json as it is written (so `npx node bench/charts.ts` redraws them from
 * a kept results.json): Vega-Lite specs rendered to SVG headless by Vega, no browser involved.
 */

/** The parts of bench/results.json the charts read. */
export type ChartedResults = {
  machine: { date: string };
  api: Record<
    'c1' | 'c32',
    Record<'api' | 'baseline_roundtrips', { latency_percentiles_ms: Record<string, number>; p99_ms: number }>
  >;
  bundles: {
    floor: BundleFigures;
    api: BundleFigures;
    worker: BundleFigures;
    processing_run: BundleFigures;
  };
  processing: { requests: number; headend_rate_cap_per_s: number; ideal_s: number; drain_s: number } & {
    done_curve: { t_s: number; done: number }[];
  };
  list: {
    sizes: number[];
    offsets: number[];
    page_size: number;
    points: Record<string, Record<'service' | 'baseline', { p50_ms: number }>>;
  };
};
type BundleFigures = { bytes: number; import_ms: number; import_ms_without_source_maps: number };

const WIDTH = 340;
const HEIGHT = 220;
const SERIES_COLORS = { range: ['#1f77b4', '#ff7f0e', '#7f7f7f'] };
const CONFIG = { title: { anchor: 'start' }, legend: { orient: 'bottom', labelLimit: 0 } } as const;

const render = async (spec: TopLevelSpec): Promise<string> =>
  new View(parse(compile(spec).spec), { renderer: 'none' }).toSVG();

/** Create vs baseline (a), one panel per concurrency: the latency at each point of the distribution. */
const latencySpec = (results: ChartedResults): TopLevelSpec => {
  const series = { api: 'create (API)', baseline_roundtrips: 'baseline (a): its DynamoDB calls alone' } as const;
  const points = DISTRIBUTION_POINTS.map((p) => `p${p}`);
  const values = (['c1', 'c32'] as const).flatMap((c) =>
    (['api', 'baseline_roundtrips'] as const).flatMap((kind) =>
      points.map((point) => ({
        concurrency: `concurrency ${c.slice(1)}`,
        series: series[kind],
        point: point === 'p0' ? 'min' : point === 'p100' ? 'max' : point,
        ms: results.api[c][kind].latency_percentiles_ms[point],
      })),
    ),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: 'Create latency distribution against baseline (a)', subtitle: subtitle(results) },
    data: { values },
    facet: {
      column: { field: 'concurrency', type: 'nominal', title: null, sort: ['concurrency 1', 'concurrency 32'] },
    },
    resolve: { scale: { y: 'independent' } },
    config: CONFIG,
    spec: {
      width: WIDTH,
      height: HEIGHT,
      mark: { type: 'line', point: true },
      encoding: {
        x: {
          field: 'point',
          type: 'ordinal',
          sort: points.map((p) => (p === 'p0' ? 'min' : p === 'p100' ? 'max' : p)),
          title: 'percentile (median over the rounds)',
          axis: { labelAngle: 0 },
        },
        y: { field: 'ms', type: 'quantitative', title: 'latency (ms)' },
        color: { field: 'series', type: 'nominal', title: null, scale: SERIES_COLORS },
      },
    },
  };
};

const BUNDLES = { floor: 'floor', api: 'api', worker: 'worker', processing_run: 'processing-run' } as const;

/** Bytes and import time per function beside the floor, with each budget marked. */
const bundlesSpec = (results: ChartedResults): TopLevelSpec => {
  const names = Object.keys(BUNDLES) as (keyof typeof BUNDLES)[];
  const sizes = names.map((name) => ({
    bundle: BUNDLES[name],
    kind: name === 'floor' ? 'floor' : 'function',
    kb: Math.round(results.bundles[name].bytes / 100) / 10,
    target_kb: name === 'floor' ? null : TARGETS.bundleKb[name],
  }));
  const imports = names.flatMap((name) => [
    { bundle: BUNDLES[name], mode: 'as deployed (--enable-source-maps)', ms: results.bundles[name].import_ms },
    { bundle: BUNDLES[name], mode: 'without source maps', ms: results.bundles[name].import_ms_without_source_maps },
  ]);
  const importBudget = Math.round(results.bundles.floor.import_ms * TARGETS.importToFloor * 10) / 10;
  const order = Object.values(BUNDLES);
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: {
      text: 'Bundles against the floor (one DynamoDB GetItem)',
      subtitle: [subtitle(results), 'red: the budgets (bench/lib/targets.ts)'],
    },
    hconcat: [
      {
        width: WIDTH,
        height: HEIGHT,
        data: { values: sizes },
        layer: [
          {
            mark: 'bar',
            encoding: {
              x: { field: 'bundle', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } },
              y: { field: 'kb', type: 'quantitative', title: 'bundle (KB)' },
              color: { field: 'kind', type: 'nominal', title: null, scale: { range: ['#7f7f7f', '#1f77b4'] } },
            },
          },
          {
            mark: { type: 'text', dy: -6 },
            encoding: {
              x: { field: 'bundle', type: 'nominal', sort: order },
              y: { field: 'kb', type: 'quantitative' },
              text: { field: 'kb', type: 'quantitative' },
            },
          },
          {
            mark: { type: 'tick', color: '#d62728', thickness: 2, size: 40 },
            encoding: {
              x: { field: 'bundle', type: 'nominal', sort: order },
              y: { field: 'target_kb', type: 'quantitative' },
            },
          },
        ],
      },
      {
        width: WIDTH,
        height: HEIGHT,
        layer: [
          {
            data: { values: imports },
            mark: 'bar',
            encoding: {
              x: { field: 'bundle', type: 'nominal', sort: order, title: null, axis: { labelAngle: 0 } },
              xOffset: { field: 'mode', type: 'nominal' },
              y: { field: 'ms', type: 'quantitative', title: 'import in a fresh process (ms, median)' },
              color: {
                field: 'mode',
                type: 'nominal',
                title: null,
                scale: SERIES_COLORS,
              },
            },
          },
          {
            data: { values: [{ ms: importBudget }] },
            mark: { type: 'rule', color: '#d62728', strokeDash: [4, 3] },
            encoding: { y: { field: 'ms', type: 'quantitative' } },
          },
          {
            data: {
              values: [{ ms: importBudget, label: `budget ${TARGETS.importToFloor}× floor: ${importBudget} ms` }],
            },
            mark: { type: 'text', align: 'right', x: WIDTH, dy: -6, color: '#d62728' },
            encoding: { y: { field: 'ms', type: 'quantitative' }, text: { field: 'label', type: 'nominal' } },
          },
        ],
      },
    ],
    resolve: { scale: { color: 'independent' } },
    config: CONFIG,
  };
};

/** Requests done over time in the drain, against the ideal line (the headend's cap from the first due time). */
const drainSpec = (results: ChartedResults): TopLevelSpec => {
  const { requests, headend_rate_cap_per_s: rate, ideal_s: ideal, drain_s: drain, done_curve } = results.processing;
  const series = [`measured: ${drain} s`, `ideal: ${requests} / ${rate} per s = ${ideal} s`];
  const measured = done_curve.map((p) => ({ ...p, series: series[0] }));
  const idealLine = [
    { t_s: 0, done: 0 },
    { t_s: ideal, done: requests },
    { t_s: Math.max(ideal, drain), done: requests },
  ].map((p) => ({ ...p, series: series[1] }));
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `Drain of ${requests} due requests, headend capped at ${rate}/s`, subtitle: subtitle(results) },
    width: 2 * WIDTH,
    height: HEIGHT,
    data: { values: [...measured, ...idealLine] },
    config: CONFIG,
    mark: { type: 'line', interpolate: 'linear' },
    encoding: {
      x: { field: 't_s', type: 'quantitative', title: 'seconds since the requests fell due' },
      y: { field: 'done', type: 'quantitative', title: 'requests executed at the headend' },
      color: { field: 'series', type: 'nominal', title: null, scale: { ...SERIES_COLORS, domain: series } },
      strokeDash: {
        field: 'series',
        type: 'nominal',
        scale: {
          domain: series,
          range: [
            [1, 0],
            [5, 4],
          ],
        },
      },
    },
  };
};

/** The list page's p50 by table size, one panel per offset: flat across sizes is what it must show. */
const listSpec = (results: ChartedResults): TopLevelSpec => {
  const { sizes, offsets, page_size: pageSize, points } = results.list;
  const series = ['list page (2 partitions merged)', 'baseline: 1 Query + 1 BatchGetItem'];
  const values = offsets.flatMap((offset) =>
    sizes.flatMap((size) => {
      const point = points[`rows_${size}_offset_${offset}`];
      if (!point) return [];
      return [
        {
          offset: `offset ${offset}`,
          size: size.toLocaleString('en'),
          p50_ms: point.service.p50_ms,
          series: series[0],
        },
        {
          offset: `offset ${offset}`,
          size: size.toLocaleString('en'),
          p50_ms: point.baseline.p50_ms,
          series: series[1],
        },
      ];
    }),
  );
  return {
    $schema: 'https://vega.github.io/schema/vega-lite/v6.json',
    title: { text: `List: a page of ${pageSize} by table size`, subtitle: subtitle(results) },
    data: { values },
    config: CONFIG,
    facet: { column: { field: 'offset', type: 'nominal', title: null, sort: null } },
    spec: {
      width: WIDTH / 2,
      height: HEIGHT,
      mark: 'bar',
      encoding: {
        x: { field: 'size', type: 'nominal', title: 'requests in the table', sort: null },
        xOffset: { field: 'series', type: 'nominal', sort: series },
        y: { field: 'p50_ms', type: 'quantitative', title: 'p50 ms per page' },
        color: { field: 'series', type: 'nominal', title: null, scale: { ...SERIES_COLORS, domain: series } },
      },
    },
  };
};

const subtitle = (results: ChartedResults) => `npm run bench, ${results.machine.date.slice(0, 10)}`;

/** Writes the charts into `dir`; answers the files written. */
export const writeCharts = async (results: ChartedResults, dir: string): Promise<string[]> => {
  mkdirSync(dir, { recursive: true });
  const charts = {
    'api-latency.svg': latencySpec(results),
    'bundles.svg': bundlesSpec(results),
    'drain.svg': drainSpec(results),
    'list.svg': listSpec(results),
  };
  const written: string[] = [];
  for (const [file, spec] of Object.entries(charts)) {
    writeFileSync(join(dir, file), `${await render(spec)}\n`);
    written.push(join(dir, file));
  }
  return written;
};
