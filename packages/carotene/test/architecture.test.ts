import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';

// The import direction written in docs/architecture.md, checked on every test run:
// declare <- store, transport <- runtime <- testing, gateway <- cli; security (certificates,
// identities) sits beside errors.ts and is imported by transport, runtime, gateway and cli;
// events (outbox, relay, inbox, brokers) sits beside store and transport, under runtime.
const ALLOWED: Record<string, readonly string[]> = {
  'errors.ts': [],
  'index.ts': ['declare', 'errors.ts'],
  declare: ['errors.ts'],
  store: ['declare', 'errors.ts'],
  security: ['errors.ts'],
  resilience: ['declare', 'errors.ts'],
  telemetry: ['declare', 'errors.ts', 'resilience'],
  transport: ['declare', 'errors.ts', 'resilience', 'security', 'telemetry'],
  events: ['declare', 'errors.ts', 'store', 'telemetry', 'transport'],
  sagas: ['declare', 'errors.ts', 'events', 'store', 'telemetry', 'transport'],
  runtime: ['declare', 'errors.ts', 'events', 'resilience', 'sagas', 'security', 'store', 'telemetry', 'transport'],
  testing: ['declare', 'errors.ts', 'events', 'runtime', 'store', 'transport'],
  gateway: ['declare', 'errors.ts', 'resilience', 'runtime', 'security', 'telemetry', 'transport'],
  build: ['declare', 'errors.ts', 'runtime', 'security'],
  dashboard: ['build', 'declare', 'errors.ts', 'events', 'runtime', 'sagas', 'security', 'store', 'transport'],
  cli: ['build', 'dashboard', 'declare', 'errors.ts', 'events', 'resilience', 'runtime', 'sagas', 'security', 'store', 'transport'],
};

const src = join(dirname(fileURLToPath(import.meta.url)), '..', 'src');

function files(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? files(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.test.ts') ? [join(dir, e.name)] : [],
  );
}

const layerOf = (file: string) => relative(src, file).split('/')[0]!;

function imports(file: string): string[] {
  const text = readFileSync(file, 'utf8');
  return [...text.matchAll(/^\s*(?:import|export)[^'"]*from\s+['"](\.[^'"]+)['"]/gm)].map((m) => resolve(dirname(file), m[1]!));
}

describe('architecture', () => {
  it('imports only in the documented direction', () => {
    const wrong: string[] = [];
    for (const file of files(src)) {
      const from = layerOf(file);
      const allowed = ALLOWED[from];
      assert.ok(allowed, `layer '${from}' (${relative(src, file)}) is not in the documented list`);
      for (const target of imports(file)) {
        const to = layerOf(target);
        if (to !== from && !allowed.includes(to)) wrong.push(`${relative(src, file)} imports ${relative(src, target)}`);
      }
    }
    assert.deepEqual(wrong, []);
  });

  it('has no import cycles between files', () => {
    const graph = new Map(files(src).map((f) => [f, imports(f).filter((t) => t.endsWith('.ts'))]));
    const state = new Map<string, 'visiting' | 'done'>();
    const cycles: string[] = [];
    const visit = (f: string, path: string[]) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'visiting') {
        cycles.push([...path.slice(path.indexOf(f)), f].map((p) => relative(src, p)).join(' -> '));
        return;
      }
      state.set(f, 'visiting');
      for (const t of graph.get(f) ?? []) visit(t, [...path, f]);
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f, []);
    assert.deepEqual(cycles, []);
  });

  it('keeps the service author\'s entry free of runtime machinery', () => {
    const text = readFileSync(join(src, 'index.ts'), 'utf8');
    assert.doesNotMatch(text, /runtime|transport|store\/|gateway|cli/);
  });
});
