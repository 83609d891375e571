import { readFileSync } from 'node:fs';
import { basename } from 'node:path';

/**
 * `node scripts/cfn-lint-report.ts <cfn-lint --format json output> <ignore file>`: prints every cfn-lint
 * finding and exits 1 when an error is not acknowledged in the ignore file (infra/cfn-lint-ignore.json).
 * Warnings and informational findings are printed but do not fail. An entry of the ignore file names a rule,
 * the logical id of a resource (`*` matches any run of characters), optionally a template file name and a
 * property path prefix, and the reason the finding is no fault of the template; an entry that matches nothing
 * is reported as stale, so that it is removed once cfn-lint no longer reports it.
 */

type Finding = {
  Filename: string;
  Level: 'Error' | 'Warning' | 'Informational';
  Location: { Path?: (string | number)[]; Start?: { LineNumber: number } };
  Message: string;
  Rule: { Id: string };
};

type IgnoreEntry = { rule: string; resource: string; template?: string; path?: string; reason: string };

const [findingsFile, ignoreFile] = process.argv.slice(2);
if (!findingsFile || !ignoreFile) {
  console.error('usage: node scripts/cfn-lint-report.ts <cfn-lint json output> <ignore file>');
  process.exit(2);
}

const findings = JSON.parse(readFileSync(findingsFile, 'utf8')) as Finding[];
const { ignore } = JSON.parse(readFileSync(ignoreFile, 'utf8')) as { ignore: IgnoreEntry[] };
const incomplete = ignore.filter((e) => !e.rule || !e.resource || !e.reason?.trim());
if (incomplete.length > 0) {
  console.error(`${ignoreFile}: every entry needs a rule, a resource and a reason:`, JSON.stringify(incomplete));
  process.exit(1);
}

const glob = (pattern: string) =>
  new RegExp(`^${pattern.replace(/[.+?^${}()|[\]\\]/g, '\\$&').replaceAll('*', '.*')}$`);

const matches = (entry: IgnoreEntry, finding: Finding) => {
  const [section, logicalId, ...rest] = finding.Location.Path ?? [];
  return (
    entry.rule === finding.Rule.Id &&
    section === 'Resources' &&
    glob(entry.resource).test(String(logicalId)) &&
    (entry.template === undefined || glob(entry.template).test(basename(finding.Filename))) &&
    (entry.path === undefined || `${rest.join('/')}/`.startsWith(`${entry.path}/`))
  );
};

const used = new Set<IgnoreEntry>();
let failing = 0;
for (const finding of findings) {
  const entry = ignore.find((e) => matches(e, finding));
  const where = `${basename(finding.Filename)}:${finding.Location.Start?.LineNumber ?? '?'} ${(finding.Location.Path ?? []).join('/')}`;
  let verdict = finding.Level === 'Error' ? 'FAIL' : 'note';
  if (entry) {
    used.add(entry);
    verdict = 'ignored';
  } else if (finding.Level === 'Error') {
    failing += 1;
  }
  console.log(`cfn-lint ${verdict}: ${finding.Rule.Id} ${finding.Level} ${where}: ${finding.Message}`);
  if (entry) console.log(`  reason: ${entry.reason}`);
}
for (const entry of ignore.filter((e) => !used.has(e))) {
  console.log(`cfn-lint: stale ignore entry (matched nothing), remove it: ${JSON.stringify(entry)}`);
}
console.log(`cfn-lint: ${findings.length} findings, ${failing} failing errors`);
process.exit(failing > 0 ? 1 : 0);
