import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';

const PROJECT_URL = `${pathToFileURL(join(import.meta.dirname, '..', '..')).href}/`;

type ProfileNode = {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
  children?: number[];
};
type CpuProfile = { nodes: ProfileNode[]; samples: number[]; timeDeltas: number[]; startTime: number; endTime: number };

/** Where a frame's code lives: an npm package, the project's own folder, Node itself, or the VM. */
const ownerOf = (url: string): string => {
  if (url === '') return '(vm: gc, idle, program)';
  const pkg = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(url);
  if (pkg?.[1]) return pkg[1];
  if (url.startsWith('node:')) return 'node core';
  // Relative to the project, whatever the folder the project itself sits in is called.
  const own = url.startsWith(PROJECT_URL)
    ? /^(functions|infra|bench)\/([^/]+)/.exec(url.slice(PROJECT_URL.length))
    : null;
  if (own?.[1]) return `${own[1]}/${own[2]?.replace(/\.ts$/, '') ?? ''}`;
  return url;
};

export type ProfileSummary = {
  total_ms: number;
  by_owner: { owner: string; ms: number; share: number }[];
  top_functions: { fn: string; where: string; ms: number; share: number }[];
};

/**
 * Maps a frame in a bundle back to its original source (an SDK or project file) through the bundle's source
 * map, so that a bundle's self time is attributed by package like unbundled code's.
 */
export type FrameResolver = (frame: ProfileNode['callFrame']) => string | undefined;

/** Self time of a `--cpu-prof` profile, by package (or project folder) and by function. */
export const summarizeProfile = (path: string, top = 15, resolve?: FrameResolver): ProfileSummary => {
  const profile = JSON.parse(readFileSync(path, 'utf8')) as CpuProfile;
  const byId = new Map(profile.nodes.map((n) => [n.id, n]));
  const selfUs = new Map<number, number>();
  profile.samples.forEach((id, i) => {
    selfUs.set(id, (selfUs.get(id) ?? 0) + (profile.timeDeltas[i] ?? 0));
  });
  const totalUs = [...selfUs.values()].reduce((a, b) => a + b, 0);
  const owners = new Map<string, number>();
  const functions = new Map<string, { fn: string; where: string; us: number }>();
  for (const [id, us] of selfUs) {
    const frame = (byId.get(id) as ProfileNode).callFrame;
    const source = resolve?.(frame) ?? frame.url;
    const owner = ownerOf(source);
    owners.set(owner, (owners.get(owner) ?? 0) + us);
    const name = `${frame.functionName || '(anonymous)'}`;
    const line = source === frame.url ? `:${frame.lineNumber + 1}` : '';
    const where = `${source.replace(/^.*node_modules\//, '').replace(PROJECT_URL, '')}${line}`;
    const key = `${name} ${where}`;
    const entry = functions.get(key) ?? { fn: name, where, us: 0 };
    entry.us += us;
    functions.set(key, entry);
  }
  const share = (us: number) => Math.round((us / totalUs) * 1000) / 10;
  return {
    total_ms: Math.round(totalUs / 1000),
    by_owner: [...owners]
      .sort((a, b) => b[1] - a[1])
      .slice(0, top)
      .map(([owner, us]) => ({ owner, ms: Math.round(us / 1000), share: share(us) })),
    top_functions: [...functions.values()]
      .sort((a, b) => b.us - a.us)
      .slice(0, top)
      .map(({ fn, where, us }) => ({ fn, where, ms: Math.round(us / 1000), share: share(us) })),
  };
};

/** The summaries as plain text tables (timings under --cpu-prof are inflated; the shares are what counts). */
export const profileReport = (profiles: Record<string, ProfileSummary>): string => {
  const lines = [`CPU profiles (self time), ${new Date().toISOString()}`, ''];
  for (const [name, summary] of Object.entries(profiles)) {
    lines.push(`== ${name}: ${summary.total_ms} ms sampled`, '', 'by package / project folder:');
    for (const o of summary.by_owner)
      lines.push(`  ${String(o.share).padStart(5)} %  ${String(o.ms).padStart(7)} ms  ${o.owner}`);
    lines.push('', 'hottest functions:');
    for (const f of summary.top_functions) {
      lines.push(`  ${String(f.share).padStart(5)} %  ${String(f.ms).padStart(7)} ms  ${f.fn}  ${f.where}`);
    }
    lines.push('');
  }
  return `${lines.join('\n')}\n`;
};

if (import.meta.main) {
  const file = process.argv[2];
  if (!file) throw new Error('usage: profile-summary.ts <file.cpuprofile>');
  const summary = summarizeProfile(file, Number(process.argv[3] ?? 25));
  console.log(`total sampled: ${summary.total_ms} ms`);
  console.table(summary.by_owner);
  console.table(summary.top_functions);
}
