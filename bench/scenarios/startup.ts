// Start-up and memory: time from spawning `carrot dev` for the shop until the gateway
// answers ready (it listens only once every service is ready), and RSS per process.
import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { metMark, type Scenario, type SummaryRow } from '../lib/scenario.ts';
import { freePort } from '../lib/shop.ts';
import { median, megabytes, ms } from '../lib/stats.ts';
import { markdownTable } from '../lib/table.ts';

const root = new URL('../..', import.meta.url).pathname;
const carrot = join(root, 'packages', 'cli', 'bin', 'carrot.js');
const shopDir = join(root, 'examples', 'shop');
const LIMITS = { rounds: 3, readyWithinMs: 60_000, settleMs: 1_000 };
/** The bundle cache of these starts: empty at first, so the first start builds the bundles. */
const CACHE_ENV = 'CAROTENE_BUNDLE_CACHE';
const TARGET = { readyMs: 3_000, rssBytes: 60 * 1024 * 1024 };

interface Round {
  readyMs: number;
  /** RSS in bytes per process name (`carrot` is the supervisor). */
  rss: Map<string, number>;
}

/** Descendant processes of `pid` with the service each runs (from its environment). */
function processTree(pid: number): Map<string, number> {
  const byParent = new Map<number, number[]>();
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(entry)]);
    } catch {
      // the process ended while we looked
    }
  }
  const out = new Map<string, number>([['carrot (supervisor)', rssOf(pid)]]);
  // a service's own children (tsx's esbuild helper) inherit its environment: named apart
  const walk = (parent: number, owner: string | undefined) => {
    for (const child of byParent.get(parent) ?? []) {
      try {
        const env = readFileSync(`/proc/${child}/environ`, 'utf8').split('\0');
        const service = env.find((v) => v.startsWith('CAROTENE_SERVICE='))?.slice('CAROTENE_SERVICE='.length);
        const name = owner ? `${owner}: ${readFileSync(`/proc/${child}/comm`, 'utf8').trim()} helper` : service;
        if (name) out.set(name, (out.get(name) ?? 0) + rssOf(child));
        walk(child, owner ?? service);
      } catch {
        // the process ended while we looked
      }
    }
  };
  walk(pid, undefined);
  return out;
}

function rssOf(pid: number): number {
  const kb = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
  return Number(kb ?? 0) * 1024;
}

async function oneStart(cacheDir: string): Promise<Round> {
  const port = await freePort();
  const dataDir = mkdtempSync(join(tmpdir(), 'carotene-bench-start-'));
  const t0 = performance.now();
  // the type check is measured apart (docs/cli.md): this measures the start of the processes
  const child = spawn(process.execPath, [carrot, 'dev', shopDir, '--port', String(port), '--data-dir', dataDir, '--no-typecheck'], {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, NO_COLOR: '1', [CACHE_ENV]: cacheDir },
  });
  let out = '';
  child.stdout.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr.on('data', (d: Buffer) => (out += d.toString()));
  try {
    for (;;) {
      if (child.exitCode !== null) throw new Error(`carrot dev exited with ${child.exitCode}:\n${out}`);
      if (performance.now() - t0 > LIMITS.readyWithinMs) throw new Error(`the shop was not ready within ${LIMITS.readyWithinMs} ms:\n${out}`);
      const ok = await fetch(`http://127.0.0.1:${port}/ready`).then(
        (r) => r.ok,
        () => false,
      );
      if (ok) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    const readyMs = performance.now() - t0;
    await new Promise((r) => setTimeout(r, LIMITS.settleMs));
    return { readyMs, rss: processTree(child.pid!) };
  } finally {
    if (child.exitCode === null) {
      const exited = once(child, 'exit');
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
    }
    rmSync(dataDir, { recursive: true, force: true });
  }
}

export const startup: Scenario = {
  name: 'startup',
  describe: '`carrot dev` for the shop until every service is ready, and RSS per process',
  async run(log) {
    // a cache of its own: the first start builds the process bundles (as after a code change),
    // the others reuse them (a restart with unchanged code); other runs' caches stay untouched
    const cacheDir = mkdtempSync(join(tmpdir(), 'carotene-bench-cache-'));
    let cold: Round;
    const rounds: Round[] = [];
    try {
      cold = await oneStart(cacheDir);
      log(`  start 0 (bundles built): ready in ${ms(cold.readyMs)}; ${[...cold.rss].map(([n, b]) => `${n} ${megabytes(b)}`).join(', ')}`);
      for (let i = 0; i < LIMITS.rounds; i++) {
        const r = await oneStart(cacheDir);
        log(`  start ${i + 1}: ready in ${ms(r.readyMs)}; ${[...r.rss].map(([n, b]) => `${n} ${megabytes(b)}`).join(', ')}`);
        rounds.push(r);
      }
    } finally {
      rmSync(cacheDir, { recursive: true, force: true });
    }
    const readyMs = median(rounds.map((r) => r.readyMs));
    const names = [...rounds[0]!.rss.keys()];
    const rss = new Map(names.map((n) => [n, median(rounds.map((r) => r.rss.get(n) ?? 0))]));
    const services = [...rss].filter(([n]) => n !== 'carrot (supervisor)' && n !== 'gateway' && !n.includes(':'));
    const largest = Math.max(...services.map(([, b]) => b));
    const summary: SummaryRow[] = [
      { measure: 'shop ready after `carrot dev`', carotene: ms(readyMs), reference: '', ratio: '', target: '≤ 3 s', met: readyMs <= TARGET.readyMs },
      {
        measure: 'the same, bundles built (code changed)',
        carotene: ms(cold.readyMs),
        reference: '',
        ratio: '',
        target: '≤ 3 s',
        met: cold.readyMs <= TARGET.readyMs,
      },
      {
        measure: 'RSS of the largest service process',
        carotene: megabytes(largest),
        reference: '',
        ratio: '',
        target: '≤ 60 MB',
        met: largest <= TARGET.rssBytes,
      },
    ];
    const body = [
      `\`carrot dev examples/shop\` on a fresh data folder each time (so certificates are issued and migrations run), from spawning the command until the gateway's \`/ready\` answers 200 (the gateway starts with the services and listens once every service is ready), polled every 20 ms. The process bundles are cached across runs, keyed by the content of their sources: a first start with an empty cache builds them (**${ms(cold.readyMs)}**, as after a code change); median of the ${LIMITS.rounds} starts after it, which reuse them: **${ms(readyMs)}** (each: ${rounds.map((r) => ms(r.readyMs)).join(', ')}). RSS is read from /proc ${LIMITS.settleMs / 1000} s after ready, median of those ${LIMITS.rounds} starts.`,
      '',
      markdownTable(
        ['process', 'RSS'],
        [...rss].map(([n, b]) => [n, megabytes(b)]),
      ),
      '',
      markdownTable(
        ['measure', 'target', 'result'],
        summary.map((s) => [s.measure, s.target, `${s.carotene} (${metMark(s.met)})`]),
      ),
    ].join('\n');
    return { heading: 'Start-up and memory', body, summary };
  },
};
