// `npm run bench [scenario ...]`: runs the benchmark scenarios side by side on this machine,
// prints medians and ratios, and rewrites docs/benchmarks.md (each scenario its section;
// a full run also the summary). Load stays on loopback and every loop is bounded.
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { mergeDoc, parseDoc, type Section } from './lib/doc.ts';
import { loadLine, machineLine } from './lib/machine.ts';
import { metMark, type Scenario, type ScenarioResult } from './lib/scenario.ts';
import { markdownTable } from './lib/table.ts';
import { gateway } from './scenarios/gateway.ts';
import { rpc } from './scenarios/rpc.ts';
import { shop } from './scenarios/shop.ts';
import { startup } from './scenarios/startup.ts';
import { tracing } from './scenarios/tracing.ts';

const root = new URL('..', import.meta.url).pathname;
const docFile = join(root, 'docs', 'benchmarks.md');
const SCENARIOS: readonly Scenario[] = [rpc, gateway, shop, startup, tracing];
/** Standalone benches other parts of Carotene keep (they write their own sections). */
const EXTERNAL_TIMEOUT_MS = 90_000;
/** The whole suite stays under ten minutes: standalone benches get what is left of this. */
const SUITE_BUDGET_MS = 570_000;

function externalBenches(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of readdirSync(join(root, 'bench')).sort()) {
    if (file === 'run.ts' || !file.endsWith('.ts') || file.endsWith('.test.ts')) continue;
    found.set(file.slice(0, -3), join(root, 'bench', file));
  }
  return found;
}

function runExternal(name: string, file: string, timeoutMs: number): Promise<void> {
  return new Promise((resolve) => {
    console.log(`\n== ${name} (bench/${name}.ts, at most ${Math.round(timeoutMs / 1000)} s) ==`);
    const child = spawn(process.execPath, ['--import', 'tsx', file], { cwd: root, stdio: ['ignore', 'inherit', 'inherit'] });
    const timer = setTimeout(() => {
      console.log(`${name}: stopped after ${Math.round(timeoutMs / 1000)} s (the suite is bounded)`);
      child.kill('SIGKILL');
    }, timeoutMs);
    child.once('exit', (code) => {
      clearTimeout(timer);
      if (code !== 0) console.log(`${name}: exited with ${code}`);
      resolve();
    });
  });
}

function preamble(): string {
  return `# Benchmarks

What each Carotene layer costs, measured side by side with bare Node and with other
platforms in one run on one machine. Ratios matter more than the absolute figures, which
depend on the machine. Everything runs on loopback; every load loop is bounded in calls and
in time; the whole suite stays under ten minutes.

Last full run: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC on ${machineLine()}.

Reproduce (from a fresh clone, after \`npm install\`):

\`\`\`sh
npm run bench                 # every scenario, rewrites this file
npm run bench -- rpc          # one scenario: ${[...SCENARIOS.map((s) => s.name), ...externalBenches().keys()].join(', ')}
\`\`\`

The gateway scenario installs Debian's \`nginx-light\` with apt-get when \`/usr/sbin/nginx\` is
missing and the bench runs as root; nothing else is downloaded.`;
}

function summarySection(results: readonly ScenarioResult[]): Section {
  const rows = results.flatMap((r) => r.summary.map((s) => [s.measure, s.carotene, s.reference, s.ratio, s.target, metMark(s.met)]));
  return { heading: 'Summary', body: markdownTable(['measure', 'Carotene', 'compared with', 'ratio', 'target', 'result'], rows) };
}

async function main(): Promise<void> {
  const args = process.argv.slice(2);
  const externals = externalBenches();
  const known = [...SCENARIOS.map((s) => s.name), ...externals.keys()];
  const unknown = args.filter((a) => !known.includes(a));
  if (unknown.length > 0) {
    console.error(`unknown scenario ${unknown.join(', ')}; choose from: ${known.join(', ')}`);
    process.exit(2);
  }
  const full = args.length === 0;
  const started = performance.now();
  console.log(`Carotene benchmarks on ${machineLine()}; ${loadLine()}`);
  const ran: { scenario: Scenario; result: ScenarioResult; load: string }[] = [];
  for (const scenario of SCENARIOS) {
    if (!full && !args.includes(scenario.name)) continue;
    console.log(`\n== ${scenario.name}: ${scenario.describe} ==`);
    const t0 = performance.now();
    const load = loadLine();
    const result = await scenario.run((line) => console.log(line));
    ran.push({ scenario, result, load });
    console.log(`\n${result.body}\n(${scenario.name} took ${((performance.now() - t0) / 1000).toFixed(0)} s)`);
  }
  for (const [name, file] of externals) {
    if (!full && !args.includes(name)) continue;
    const left = SUITE_BUDGET_MS - (performance.now() - started);
    if (left < 10_000) console.log(`\n== ${name}: skipped, the suite's ${SUITE_BUDGET_MS / 60_000}-minute budget is used up ==`);
    else await runExternal(name, file, Math.min(EXTERNAL_TIMEOUT_MS, left));
  }
  const results = ran.map((r) => r.result);
  const sections: Section[] = ran.map(({ scenario, result, load }) => ({
    heading: result.heading,
    body: `Measured on ${machineLine()}, ${load} at the start: \`npm run bench -- ${scenario.name}\`.\n\n${result.body}`,
  }));
  if (full) sections.unshift(summarySection(results));
  if (results.length > 0) {
    const old = existsSync(docFile) ? readFileSync(docFile, 'utf8') : '';
    const doc = parseDoc(old);
    writeFileSync(docFile, mergeDoc(doc, sections, full || doc.preamble === '' ? preamble() : undefined, full));
    console.log(`\nwrote ${sections.map((s) => `'${s.heading}'`).join(', ')} to docs/benchmarks.md`);
  }
  if (full) console.log(`\n${summarySection(results).body}`);
  console.log(`\ndone in ${((performance.now() - started) / 1000).toFixed(0)} s`);
}

await main();
