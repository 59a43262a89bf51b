import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { dirname } from 'node:path';
import { Backoff, type BackoffOptions } from './backoff.ts';
import { formatErrorLine, parseErrorLine, type ChildLogError } from './child-output.ts';
import { tailLines } from './log-tail.ts';
import { probeReady, type ReadyAnswer } from './readiness.ts';
import { formatReadyTable, type ReadyRow } from './ready-table.ts';
import { ChildRun, type ExitInfo, type RunSpec } from './child-run.ts';

/** One process to keep running: how to run it, and how to name it. */
export interface ProcessSpec extends RunSpec {
  readonly name: string;
  /** Shown in the table; defaults to the origin of `readyUrl`. */
  readonly url?: string;
  /**
   * Start order: every process of a stage is spawned together, and the next stage only once
   * all of them are ready (default 0). A scaled service's extra instances are a later stage
   * than its first one, which migrates the database they share.
   */
  readonly stage?: number;
  /**
   * Spawned with the first stage, but expected ready only once every other process is: it
   * waits for them itself. The gateway is, so it loads its code while the services start.
   */
  readonly awaitsOthers?: boolean;
}

export interface SupervisorOptions {
  /** How long a process may take to become ready (default 30 000 ms). */
  readonly startTimeoutMs?: number;
  /** Pause between readiness probes (default 100 ms). */
  readonly pollIntervalMs?: number;
  /** Grace between SIGTERM and SIGKILL when stopping (default 5 000 ms). */
  readonly stopTimeoutMs?: number;
  /** Restart delays after a crash (default 250 ms doubling to 10 s, reset after 30 s up). */
  readonly backoff?: BackoffOptions;
  /** Log lines shown when a process fails to start (default 20). */
  readonly tailLines?: number;
  /** Where the table, errors, crashes and restarts are written (default stdout). */
  readonly print?: (line: string) => void;
}

export type ProcessState = 'idle' | 'starting' | 'ready' | 'restarting' | 'stopped';

export interface SupervisorEvents {
  spawn: [{ name: string; pid: number | undefined; attempt: number }];
  /** A process answered its readiness probe; `restarts` is 0 the first time. */
  ready: [{ name: string; pid: number | undefined; startupMs: number; restarts: number }];
  'all-ready': [rows: ReadyRow[]];
  /** A JSON log line at error level or above. */
  'log-error': [{ name: string } & ChildLogError];
  /** A process that had been started exited on its own; it restarts after `restartInMs`. */
  crash: [{ name: string; pid: number | undefined; exit: ExitInfo; restartInMs: number }];
  restart: [{ name: string; attempt: number; delayMs: number }];
  'start-failed': [error: StartupError];
  stopped: [];
}

/** A process failed during the initial start; everything was stopped. */
export class StartupError extends Error {
  override readonly name = 'StartupError';
  readonly service: string;
  readonly logFile: string;
  readonly logTail: readonly string[];

  constructor(service: string, reason: string, logFile: string, logTail: readonly string[]) {
    const tail = logTail.length ? `last ${logTail.length} lines of ${logFile}:\n${logTail.map((l) => `  ${l}`).join('\n')}` : `${logFile} is empty`;
    super(`${service} ${reason}; stopped everything.\n${tail}`);
    this.service = service;
    this.logFile = logFile;
    this.logTail = logTail;
  }
}

interface Slot {
  /** Replaced by {@link Supervisor.replace} (`carrot dev --watch`): new code, same name. */
  spec: ProcessSpec;
  readonly backoff: Backoff;
  state: ProcessState;
  run: ChildRun | undefined;
  attempt: number;
  startupMs: number | undefined;
  readyAt: number | undefined;
  timer: NodeJS.Timeout | undefined;
}

type WaitResult = { ok: true } | { ok: false; reason: string };

/**
 * Starts processes, waits until each answers its readiness URL, prints one table, then
 * keeps them alive: a crashed process is restarted with exponential backoff; error lines
 * from any child are echoed. A failure during the initial start stops everything.
 *
 * ```ts
 * const sup = new Supervisor([{ name: 'orders', command: process.execPath, args: ['orders.js'],
 *   env: process.env, readyUrl: 'http://127.0.0.1:4001/ready', logFile: 'logs/orders.log' }]);
 * sup.on('crash', (e) => ...);
 * await sup.start();   // throws StartupError
 * await sup.stop();
 * ```
 */
export class Supervisor extends EventEmitter<SupervisorEvents> {
  readonly #slots: Slot[];
  readonly #startTimeoutMs: number;
  readonly #pollIntervalMs: number;
  readonly #stopTimeoutMs: number;
  readonly #tailLines: number;
  readonly #print: (line: string) => void;
  #started = false;
  #stopping: Promise<void> | undefined;
  // last resort: never leave children behind if this process exits without stop()
  readonly #killAll = (): void => {
    for (const slot of this.#slots) slot.run?.kill('SIGKILL');
  };

  constructor(specs: readonly ProcessSpec[], options: SupervisorOptions = {}) {
    super();
    const names = new Set<string>();
    for (const spec of specs) {
      if (names.has(spec.name)) throw new TypeError(`two processes are named '${spec.name}'`);
      names.add(spec.name);
    }
    this.#slots = specs.map((spec) => ({
      spec,
      backoff: new Backoff(options.backoff),
      state: 'idle',
      run: undefined,
      attempt: 0,
      startupMs: undefined,
      readyAt: undefined,
      timer: undefined,
    }));
    this.#startTimeoutMs = options.startTimeoutMs ?? 30_000;
    this.#pollIntervalMs = options.pollIntervalMs ?? 100;
    this.#stopTimeoutMs = options.stopTimeoutMs ?? 5_000;
    this.#tailLines = options.tailLines ?? 20;
    this.#print = options.print ?? ((line) => process.stdout.write(`${line}\n`));
  }

  /**
   * Spawns every process in order and resolves with the table rows once all are ready.
   * Rejects with a {@link StartupError} (after stopping everything) when one exits or
   * is not ready in time.
   */
  async start(): Promise<ReadyRow[]> {
    if (this.#started) throw new Error('Supervisor.start() was already called');
    this.#started = true;
    process.on('exit', this.#killAll);
    const staged = this.#slots.filter((slot) => !slot.spec.awaitsOthers);
    const stages = [...new Set(staged.map((slot) => slot.spec.stage ?? 0))].sort((a, b) => a - b);
    const waiting = this.#slots.filter((slot) => slot.spec.awaitsOthers);
    for (const slot of waiting) this.#spawn(slot);
    // a failure of one of them fails the start at once; being ready early does not end a stage
    const waited = Promise.all(waiting.map((slot) => this.#awaitFirstReady(slot)));
    const failed = waited.then(() => new Promise<never>(() => undefined));
    failed.catch(() => undefined); // rethrown below, by the race or by awaiting `waited`
    try {
      for (const stage of stages) {
        if (this.#stopping) break;
        const slots = staged.filter((slot) => (slot.spec.stage ?? 0) === stage);
        for (const slot of slots) this.#spawn(slot);
        await Promise.race([Promise.all(slots.map((slot) => this.#awaitFirstReady(slot))), failed]);
      }
      await waited;
    } catch (err) {
      if (err instanceof StartupError) this.emit('start-failed', err);
      throw err;
    }
    const rows = this.rows();
    // stop() was called while starting (Ctrl-C): nothing to announce
    if (this.#stopping) return rows;
    for (const line of formatReadyTable(rows)) this.#print(line);
    this.emit('all-ready', rows);
    return rows;
  }

  /** The current state of every process. */
  rows(): ReadyRow[] {
    return this.#slots.map((slot) => ({
      name: slot.spec.name,
      url: slot.spec.url ?? new URL(slot.spec.readyUrl).origin,
      state: slot.state,
      pid: slot.run?.pid,
      startupMs: slot.startupMs,
    }));
  }

  /** True once stop() was called (or a start-up failure stopped everything). */
  get stopping(): boolean {
    return this.#stopping !== undefined;
  }

  /** SIGTERM to every child, SIGKILL to those still up after the grace period. Idempotent. */
  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      for (const slot of this.#slots) clearTimeout(slot.timer);
      await Promise.all(
        this.#slots.map(async (slot) => {
          await slot.run?.terminate(this.#stopTimeoutMs);
          await slot.run?.flushed;
          slot.state = 'stopped';
        }),
      );
      process.off('exit', this.#killAll);
      this.emit('stopped');
    })();
    return this.#stopping;
  }

  /**
   * Stops one process and starts it again, with `spec` when given (a rebuilt bundle), and
   * resolves once it is ready again (or failed, and is restarted with backoff like a crash).
   * Its exit is not a crash. For `carrot dev --watch`.
   */
  async replace(name: string, spec?: ProcessSpec): Promise<void> {
    const slot = this.#slot(name);
    if (this.#stopping || !this.#started) return;
    if (spec) slot.spec = { ...spec, name };
    clearTimeout(slot.timer);
    const old = slot.run;
    // unhooked first: its exit must not look like a crash
    slot.run = undefined;
    await old?.terminate(this.#stopTimeoutMs);
    await old?.flushed;
    await this.#restart(slot, 0);
  }

  /** Runs `name` with `spec` from its next start on (a crash's restart, or {@link replace}). */
  setSpec(name: string, spec: ProcessSpec): void {
    this.#slot(name).spec = { ...spec, name };
  }

  #slot(name: string): Slot {
    const slot = this.#slots.find((s) => s.spec.name === name);
    if (!slot) throw new TypeError(`no process is named '${name}'`);
    return slot;
  }

  #spawn(slot: Slot): ChildRun {
    mkdirSync(dirname(slot.spec.logFile), { recursive: true });
    slot.attempt += 1;
    slot.state = slot.attempt === 1 ? 'starting' : 'restarting';
    slot.readyAt = undefined;
    const run = new ChildRun(slot.spec, (line) => this.#onLine(slot, line));
    slot.run = run;
    this.emit('spawn', { name: slot.spec.name, pid: run.pid, attempt: slot.attempt });
    return run;
  }

  async #awaitFirstReady(slot: Slot): Promise<void> {
    const run = slot.run;
    if (!run) throw new Error(`${slot.spec.name} was not spawned`);
    const result = await this.#waitReady(run);
    if (this.#stopping) return;
    if (result.ok) {
      this.#markReady(slot, run);
      return;
    }
    await this.stop();
    const tail = await tailLines(slot.spec.logFile, this.#tailLines, run.logOffset);
    throw new StartupError(slot.spec.name, result.reason, slot.spec.logFile, tail);
  }

  async #waitReady(run: ChildRun): Promise<WaitResult> {
    const deadline = run.startedAt + this.#startTimeoutMs;
    let last: ReadyAnswer;
    for (;;) {
      if (this.#stopping) return { ok: false, reason: 'was stopped' };
      if (run.exit) return { ok: false, reason: `${describeExit(run.exit)} before it was ready` };
      last = await probeReady(run.spec, Math.min(1_000, this.#startTimeoutMs));
      if (last.ready && !run.exit) return { ok: true };
      if (Date.now() >= deadline) {
        return { ok: false, reason: `was not ready after ${formatMs(this.#startTimeoutMs)} (${last.asked}: ${last.answer})` };
      }
      // wake early when the child exits, so a failed start is reported at once
      await Promise.race([sleep(this.#pollIntervalMs), run.exited]);
    }
  }

  #markReady(slot: Slot, run: ChildRun): void {
    const now = Date.now();
    slot.state = 'ready';
    slot.readyAt = now;
    slot.startupMs = now - run.startedAt;
    const restarts = slot.attempt - 1;
    if (restarts > 0) this.#print(`[${slot.spec.name}] ready again (pid ${run.pid}, ${slot.startupMs} ms)`);
    this.emit('ready', { name: slot.spec.name, pid: run.pid, startupMs: slot.startupMs, restarts });
    void run.exited.then((exit) => this.#onCrash(slot, run, exit));
  }

  #onCrash(slot: Slot, run: ChildRun, exit: ExitInfo): void {
    if (this.#stopping || slot.run !== run) return;
    const upFor = slot.readyAt === undefined ? 0 : Date.now() - slot.readyAt;
    const delay = slot.backoff.next(upFor);
    slot.state = 'restarting';
    this.#print(`[${slot.spec.name}] ${describeExit(exit)}; restarting in ${formatMs(delay)} (log: ${slot.spec.logFile})`);
    this.emit('crash', { name: slot.spec.name, pid: run.pid, exit, restartInMs: delay });
    slot.timer = setTimeout(() => void this.#restart(slot, delay), delay);
  }

  async #restart(slot: Slot, delayMs: number): Promise<void> {
    if (this.#stopping) return;
    const run = this.#spawn(slot);
    this.emit('restart', { name: slot.spec.name, attempt: slot.attempt, delayMs });
    const result = await this.#waitReady(run);
    if (this.#stopping) return;
    if (result.ok) return this.#markReady(slot, run);
    if (!run.exit) {
      this.#print(`[${slot.spec.name}] ${result.reason}; killing it`);
      await run.terminate(this.#stopTimeoutMs);
    }
    if (run.exit) this.#onCrash(slot, run, run.exit);
  }

  #onLine(slot: Slot, line: string): void {
    const error = parseErrorLine(line);
    if (!error) return;
    this.#print(formatErrorLine(slot.spec.name, error));
    if (error.level >= 50) this.emit('log-error', { name: slot.spec.name, ...error });
  }
}

export function describeExit(exit: ExitInfo): string {
  if (exit.error) return `could not be started (${exit.error})`;
  if (exit.signal) return `was killed by ${exit.signal}`;
  return `exited with code ${exit.code}`;
}

function formatMs(ms: number): string {
  return ms >= 1_000 && ms % 100 === 0 ? `${ms / 1_000} s` : `${ms} ms`;
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
