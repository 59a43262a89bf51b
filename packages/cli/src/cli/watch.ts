import { createHash } from 'node:crypto';
import { watch, type FSWatcher } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AppDef } from 'carotene/model';
import { GATEWAY } from './dev-plan.ts';
import { restartPlan } from './restart-plan.ts';
import { shownPath } from './shown-path.ts';
import { sourceGraph } from './source-graph.ts';
import type { ProcessSpec, Supervisor } from './supervisor.ts';
import { describeTypecheck, type TypecheckResult } from './typecheck.ts';

export interface DevWatchOptions {
  readonly app: AppDef;
  readonly appFile: string;
  readonly supervisor: Supervisor;
  /** The processes running one service: its own (and its extra instances), or its group's. */
  readonly processesOf: (service: string) => readonly string[];
  /** Every process's spec for the code as it is now (a fresh bundle), or why there is none. */
  readonly rebuild: () => Promise<{ readonly specs: readonly ProcessSpec[] } | { readonly failed: string }>;
  /** The type check to pass before restarting anything; none with `--no-typecheck`. */
  readonly typecheck?: () => Promise<TypecheckResult>;
  readonly print: (line: string) => void;
  readonly printError: (line: string) => void;
  /** Quiet time after the last change before acting on the changes (default 100 ms). */
  readonly debounceMs?: number;
}

/**
 * `carrot dev --watch`: restarts the services whose files change. Each service's files are
 * its import graph from the module that implements it ({@link sourceGraph}); their folders
 * are watched (not the app folder recursively, which holds `.carotene/` and may hold
 * `node_modules`). A change is type-checked first, when the check is on; while it fails,
 * the running processes keep the code they have and the diagnostics are printed. Then the
 * bundle is rebuilt and the services whose code changed restart, with the gateway (it
 * serves their routes). A contract is in the graph of every caller, so they restart too.
 *
 * ```ts
 * const watching = await DevWatch.start({ app, appFile, supervisor, processesOf, rebuild, print, printError });
 * watching.close();
 * ```
 */
export class DevWatch {
  readonly #o: DevWatchOptions;
  readonly #entries: Map<string, string>;
  readonly #watchers = new Map<string, FSWatcher>();
  /** Content hash of each tracked file as the running processes have it. */
  readonly #running = new Map<string, string>();
  #graph = new Map<string, Set<string>>();
  #tracked = new Set<string>();
  /** Changed since the last restart: kept while a type check fails, so the fix applies them too. */
  #pending = new Set<string>();
  #timer: NodeJS.Timeout | undefined;
  #cycle: Promise<void> | undefined;
  #again = false;
  #closed = false;

  private constructor(options: DevWatchOptions) {
    this.#o = options;
    // a service without a known source (written by hand) depends on the whole app
    this.#entries = new Map(options.app.services.map((s) => [s.name, s.source?.replace(/:\d+$/, '') ?? options.appFile]));
  }

  static async start(options: DevWatchOptions): Promise<DevWatch> {
    const w = new DevWatch(options);
    await w.#refresh();
    for (const file of w.#tracked) w.#running.set(file, await hashOf(file));
    options.print(`carrot dev: watching ${w.#tracked.size} files of ${w.#graph.size} services for changes`);
    return w;
  }

  /** Resolves once the changes seen so far have been acted on (for tests). */
  async settled(): Promise<void> {
    while (this.#cycle || this.#timer) await (this.#cycle ?? new Promise((r) => setTimeout(r, 20)));
  }

  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    for (const w of this.#watchers.values()) w.close();
    this.#watchers.clear();
  }

  /** Recomputes the graph and watches the folders of its files (imports may have changed). */
  async #refresh(): Promise<void> {
    this.#graph = await sourceGraph(this.#entries);
    this.#tracked = new Set([this.#o.appFile, ...[...this.#graph.values()].flatMap((files) => [...files])]);
    const dirs = new Set([...this.#tracked].map((file) => dirname(file)));
    for (const [dir, w] of this.#watchers) {
      if (dirs.has(dir)) continue;
      w.close();
      this.#watchers.delete(dir);
    }
    for (const dir of dirs) {
      if (this.#watchers.has(dir) || this.#closed) continue;
      // a folder, not each file: editors save by writing a new file and renaming it over the old
      const w = watch(dir, (_event, name) => {
        if (name === null) return;
        const file = join(dir, name.toString());
        if (this.#tracked.has(file)) this.#changed(file);
      });
      w.on('error', () => this.#watchers.delete(dir));
      this.#watchers.set(dir, w);
    }
  }

  #changed(file: string): void {
    if (this.#closed) return;
    this.#pending.add(file);
    clearTimeout(this.#timer);
    // several saves in a row (a formatter, a branch switch) are acted on once
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#kick();
    }, this.#o.debounceMs ?? 100);
  }

  #kick(): void {
    if (this.#cycle) {
      this.#again = true;
      return;
    }
    this.#cycle = this.#apply()
      .catch((err: unknown) => this.#o.printError(`carrot dev: could not apply the change: ${err instanceof Error ? err.message : String(err)}`))
      .finally(() => {
        this.#cycle = undefined;
        if (this.#again && !this.#closed) {
          this.#again = false;
          this.#kick();
        }
      });
  }

  async #apply(): Promise<void> {
    const { supervisor, print, printError } = this.#o;
    if (this.#closed || supervisor.stopping) return;
    // an editor touching a file without changing it restarts nothing
    const changed = new Map<string, string>();
    for (const file of this.#pending) {
      const hash = await hashOf(file);
      if (hash !== this.#running.get(file)) changed.set(file, hash);
    }
    this.#pending = new Set(changed.keys());
    const plan = restartPlan(new Set(changed.keys()), this.#graph, this.#o.appFile);
    if (plan.services.length === 0) return;
    const what = [...changed.keys()].map(shownPath).join(', ');
    const [checked, built] = await Promise.all([this.#o.typecheck?.(), this.#o.rebuild()]);
    if (this.#closed || supervisor.stopping) return;
    if (checked?.status === 'failed') {
      printError(checked.output);
      const one = plan.services.length === 1;
      print(
        `carrot dev: ${describeTypecheck(checked)} after ${what} changed; ${plan.services.join(', ')} ${one ? 'keeps' : 'keep'} running the code ${one ? 'it' : 'they'} had`,
      );
      return;
    }
    if ('failed' in built) {
      print(`carrot dev: could not bundle the app after ${what} changed (${built.failed}); the processes keep running the code they had`);
      return;
    }
    const names = plan.everything ? built.specs.map((s) => s.name) : [...new Set([...plan.services.flatMap((s) => this.#o.processesOf(s)), GATEWAY])];
    print(
      `carrot dev: ${what} changed; restarting ${names.join(', ')}${plan.everything ? ' (the app module changed; added or removed services need a new carrot dev)' : ''}`,
    );
    const restarts: Promise<void>[] = [];
    for (const spec of built.specs) {
      // the others run the new bundle from their next start on: the old one may be pruned
      if (names.includes(spec.name)) restarts.push(supervisor.replace(spec.name, spec));
      else supervisor.setSpec(spec.name, spec);
    }
    for (const [file, hash] of changed) this.#running.set(file, hash);
    this.#pending.clear();
    await Promise.all(restarts);
    await this.#refresh();
    for (const file of this.#tracked) if (!this.#running.has(file)) this.#running.set(file, await hashOf(file));
  }
}

async function hashOf(file: string): Promise<string> {
  try {
    return createHash('sha256')
      .update(await readFile(file))
      .digest('hex');
  } catch {
    // removed (or mid-rename): differs from any content
    return 'missing';
  }
}
