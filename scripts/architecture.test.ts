import assert from 'node:assert/strict';
import { builtinModules } from 'node:module';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import ts from 'typescript';

// The import direction written in docs/architecture.md, checked on every test run. A layer
// is a package, or a folder of the two packages that have several (runtime, cli). Static
// imports, `export … from` and literal `import()` all count.
const ALLOWED: Record<string, readonly string[]> = {
  carotene: [],
  'runtime/store': ['carotene'],
  'runtime/security': ['carotene'],
  'runtime/resilience': ['carotene'],
  'runtime/grpc': ['carotene'],
  'runtime/telemetry': ['carotene', 'runtime/resilience'],
  'runtime/transport': ['carotene', 'runtime/resilience', 'runtime/security', 'runtime/telemetry'],
  'runtime/events': ['carotene', 'runtime/store', 'runtime/telemetry', 'runtime/transport'],
  'runtime/sagas': ['carotene', 'runtime/events', 'runtime/store', 'runtime/telemetry', 'runtime/transport'],
  'runtime/service': [
    'carotene',
    'runtime/events',
    'runtime/grpc',
    'runtime/resilience',
    'runtime/sagas',
    'runtime/security',
    'runtime/store',
    'runtime/telemetry',
    'runtime/transport',
  ],
  runtime: ['runtime/resilience', 'runtime/service', 'runtime/transport'],
  testing: ['carotene', 'runtime/events', 'runtime/service', 'runtime/store', 'runtime/transport'],
  gateway: ['carotene', 'runtime/resilience', 'runtime/security', 'runtime/service', 'runtime/telemetry', 'runtime/transport'],
  'cli/build': ['carotene', 'runtime/grpc', 'runtime/security', 'runtime/service'],
  'cli/dashboard': ['carotene', 'cli/build', 'runtime/events', 'runtime/sagas', 'runtime/security', 'runtime/service', 'runtime/store', 'runtime/transport'],
  'cli/cli': [
    'carotene',
    'cli/build',
    'cli/dashboard',
    'runtime/events',
    'runtime/grpc',
    'runtime/resilience',
    'runtime/sagas',
    'runtime/security',
    'runtime/service',
    'runtime/store',
    'runtime/transport',
  ],
  postgres: ['carotene', 'runtime/events', 'runtime/store'],
  jetstream: ['carotene', 'runtime/events'],
  redis: ['carotene', 'gateway'],
};

// Optional engines are loaded by name (`loadEngine`), never imported: they depend on their host.
const ENGINE_LOADS: Record<string, readonly string[]> = {
  'runtime/store': ['@carotene/postgres'],
  'runtime/service': ['@carotene/jetstream', '@carotene/postgres'],
  gateway: ['@carotene/redis'],
};

// Dependencies no source file imports, on purpose: tsx is the loader `carrot` registers for
// the app's TypeScript; light-my-request is fastify's, pinned to a release that runs on Node 20.
const NOT_IMPORTED: Record<string, readonly string[]> = { cli: ['tsx'], gateway: ['light-my-request'] };

const root = resolve(import.meta.dirname, '..');
const packagesDir = join(root, 'packages');
// create-carotene is a bin only (`npm create carotene`): no source of its own
const packages = readdirSync(packagesDir).filter((p) => existsSync(join(packagesDir, p, 'src')));

interface Manifest {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  exports?: Record<string, unknown>;
}
const manifest = (p: string) => JSON.parse(readFileSync(join(packagesDir, p, 'package.json'), 'utf8')) as Manifest;
const dirOfName = new Map(packages.map((p) => [manifest(p).name, p]));

function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}
const allSources = packages.flatMap((p) => sources(join(packagesDir, p, 'src')));

/** `runtime/store` for packages/runtime/src/store/x.ts, `runtime` for its index.ts, `gateway` for any gateway file. */
function layerOfFile(file: string): string {
  const [pkg, , first, second] = relative(packagesDir, file).split('/');
  if (pkg === 'runtime' || pkg === 'cli') return second === undefined ? pkg : `${pkg}/${first}`;
  return pkg!;
}

/** The layer a bare specifier of a Carotene package reaches (`@carotene/runtime/store` → `runtime/store`). */
function layerOfSpecifier(spec: string): string | undefined {
  const parts = spec.split('/');
  const name = spec.startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]!;
  const pkg = dirOfName.get(name);
  if (!pkg) return undefined;
  const sub = parts.slice(name.split('/').length).join('/');
  if (pkg !== 'runtime' && pkg !== 'cli') return pkg;
  if (sub === '') return pkg;
  return sub.endsWith('main') ? `${pkg}/service` : `${pkg}/${sub}`;
}

const packageName = (spec: string) => (spec.startsWith('@') ? spec.split('/').slice(0, 2).join('/') : spec.split('/')[0]!);

interface Reference {
  readonly spec: string;
  readonly kind: 'import' | 'engine' | 'entry';
}
function references(file: string): Reference[] {
  const text = readFileSync(file, 'utf8');
  const found: Reference[] = ts.preProcessFile(text, true, true).importedFiles.map((f) => ({ spec: f.fileName, kind: 'import' }));
  const code = text.replace(/\/\*[\s\S]*?\*\//g, '').replace(/^\s*\/\/.*$/gm, '');
  for (const m of code.matchAll(/loadEngine<[^>]*>\(\s*'([^']+)'/g)) found.push({ spec: m[1]!, kind: 'engine' });
  // an entry module another process runs (the CLI starts the gateway, it does not import it)
  for (const m of code.matchAll(/entryFile\(\s*'([^']+)'/g)) found.push({ spec: m[1]!, kind: 'entry' });
  return found;
}

describe('architecture', () => {
  it('imports only in the documented direction, and other packages only through their exports', () => {
    const wrong: string[] = [];
    for (const file of allSources) {
      const from = layerOfFile(file);
      const allowed = ALLOWED[from];
      assert.ok(allowed, `layer '${from}' (${relative(root, file)}) is not in the documented list`);
      for (const { spec, kind } of references(file)) {
        const where = `${relative(root, file)} → ${spec}`;
        if (kind === 'engine') {
          if (!ENGINE_LOADS[from]?.includes(spec)) wrong.push(`${where}: an engine this layer may not load`);
          continue;
        }
        if (kind === 'entry') continue;
        if (spec.startsWith('.')) {
          const target = resolve(dirname(file), spec);
          if (!target.startsWith(join(packagesDir, relative(packagesDir, file).split('/')[0]!, 'src'))) wrong.push(`${where}: reaches into another package`);
          else if (layerOfFile(target) !== from && !allowed.includes(layerOfFile(target)))
            wrong.push(`${where}: ${from} may not import ${layerOfFile(target)}`);
          continue;
        }
        const to = layerOfSpecifier(spec);
        if (to !== undefined && to !== from && !allowed.includes(to)) wrong.push(`${where}: ${from} may not import ${to}`);
        if (to === undefined && spec.includes('carotene')) wrong.push(`${where}: no such Carotene package`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('declares every package a package imports, and imports every package it declares', () => {
    const wrong: string[] = [];
    for (const p of packages) {
      const declared = new Set(Object.keys(manifest(p).dependencies ?? {}));
      const used = new Set<string>();
      for (const file of sources(join(packagesDir, p, 'src'))) {
        for (const { spec, kind } of references(file)) {
          if (kind === 'engine' || spec.startsWith('.') || spec.startsWith('node:') || builtinModules.includes(spec)) continue;
          used.add(packageName(spec));
        }
      }
      used.delete(manifest(p).name);
      for (const u of used) if (!declared.has(u)) wrong.push(`${p} imports ${u} but does not declare it`);
      for (const d of declared) if (!used.has(d) && !NOT_IMPORTED[p]?.includes(d)) wrong.push(`${p} declares ${d} but nothing imports it`);
    }
    assert.deepEqual(wrong, []);
  });

  it('moves every package at one version, each depending on the others at exactly that version', () => {
    const all = readdirSync(packagesDir).map((p) => JSON.parse(readFileSync(join(packagesDir, p, 'package.json'), 'utf8')) as Manifest & { version: string });
    const version = manifest('carotene').version;
    const wrong = all.flatMap((m) => [
      ...(m.version === version ? [] : [`${m.name} is at ${m.version}, not ${version}`]),
      ...Object.entries(m.dependencies ?? {})
        .filter(([d, v]) => (d === 'carotene' || d.startsWith('@carotene/')) && v !== version)
        .map(([d, v]) => `${m.name} depends on ${d}@${v}, not ${version}`),
    ]);
    assert.deepEqual(wrong, []);
  });

  it('has no import cycles between files', () => {
    const graph = new Map(
      allSources.map((f) => [
        f,
        references(f)
          .filter((r) => r.spec.startsWith('.'))
          .map((r) => resolve(dirname(f), r.spec)),
      ]),
    );
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(root, p)).join(' -> '));
        return;
      }
      state.set(f, 'visiting');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  it('finds dynamic imports too', () => {
    // the parser the checks above rely on sees import() and export-from, not only import
    const refs = ts
      .preProcessFile("const a = await import('@carotene/cli/main'); export { b } from './b.ts';", true, true)
      .importedFiles.map((f) => f.fileName);
    assert.deepEqual(refs.sort(), ['./b.ts', '@carotene/cli/main']);
  });

  it("keeps the service author's package to zod and types", () => {
    assert.deepEqual(Object.keys(manifest('carotene').dependencies ?? {}).sort(), ['kysely', 'zod']);
    for (const file of sources(join(packagesDir, 'carotene', 'src'))) {
      for (const m of readFileSync(file, 'utf8').matchAll(/^import (type )?.*from '(kysely[^']*)'/gm))
        assert.equal(m[1], 'type ', `${relative(root, file)} imports a value from ${m[2]}: kysely is for types only`);
    }
  });
});
