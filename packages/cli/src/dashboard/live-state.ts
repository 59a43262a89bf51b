import type { EventFeed } from './event-feed.ts';
import type { HealthCollector, WorkloadSample } from './health-collector.ts';
import type { SagaFeed } from './saga-feed.ts';
import { assessApp, type AppHealthReport } from './service-health.ts';
import type { SseHub } from './sse-hub.ts';
import type { TraceStore } from './trace-store.ts';

/** The health report with what each instance answered. */
export interface HealthView extends AppHealthReport {
  readonly at: number;
  readonly samples: readonly WorkloadSample[];
}

export interface LiveStateOptions {
  readonly hub: SseHub;
  readonly traces: TraceStore;
  readonly health: HealthCollector;
  readonly events: EventFeed;
  readonly sagas?: SagaFeed | undefined;
  readonly healthIntervalMs?: number | undefined;
  readonly eventsIntervalMs?: number | undefined;
}

/**
 * Keeps the browsers current: while someone watches, looks at health, events and sagas on
 * timers and tells the hub when something changed (nobody watching: nothing is looked at,
 * so an idle dashboard costs the app nothing). A new trace is announced at most every 200 ms.
 */
export class LiveState {
  readonly #o: LiveStateOptions;
  readonly #timers = new Set<NodeJS.Timeout>();
  #running = false;
  #health: HealthView | undefined;
  #healthSeen = '';
  #eventsSeen = '';
  #sagasSeen = '';
  #tracesTimer: NodeJS.Timeout | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: LiveStateOptions) {
    this.#o = options;
  }

  start(): void {
    this.#running = true;
    this.#unsubscribe = this.#o.traces.onChange(() => {
      this.#tracesTimer ??= setTimeout(() => {
        this.#tracesTimer = undefined;
        this.#o.hub.send('traces', {});
      }, 200);
    });
    this.#loop(this.#o.healthIntervalMs ?? 2_000, async () => {
      if (this.#o.hub.size > 0) await this.#lookAtHealth();
    });
    this.#loop(this.#o.eventsIntervalMs ?? 1_500, async () => {
      if (this.#o.hub.size === 0) return;
      await this.#lookAtEvents();
      await this.#lookAtSagas();
    });
  }

  stop(): void {
    this.#running = false;
    this.#unsubscribe?.();
    clearTimeout(this.#tracesTimer);
    for (const t of this.#timers) clearTimeout(t);
  }

  /** The latest health report; looks now when there is none, or it is older than a look's interval. */
  async health(): Promise<HealthView> {
    const fresh = this.#health && Date.now() - this.#health.at < (this.#o.healthIntervalMs ?? 2_000);
    return fresh ? this.#health! : this.#lookAtHealth();
  }

  /** Something changed the events (a replay): tell the browsers now, not at the next look. */
  eventsChanged(): void {
    this.#eventsSeen = '';
    this.#o.hub.send('events', {});
  }

  async #lookAtHealth(): Promise<HealthView> {
    const samples = await this.#o.health.sample();
    const report = assessApp(samples);
    const view: HealthView = { ...report, at: Date.now(), samples };
    this.#health = view;
    // rates move a little on every look; announce changes of verdict, readiness or instances
    const seen = JSON.stringify([
      report.health,
      report.workloads.map((w) => [w.name, w.health, w.ready, w.desired, w.reasons]),
      samples.map((s) => s.instances),
    ]);
    if (seen !== this.#healthSeen) {
      this.#healthSeen = seen;
      this.#o.hub.send('health', view);
    }
    return view;
  }

  async #lookAtEvents(): Promise<void> {
    const seen = JSON.stringify([await this.#o.events.recent(50), await this.#o.events.deadLetters()]);
    if (seen === this.#eventsSeen) return;
    this.#eventsSeen = seen;
    this.#o.hub.send('events', {});
  }

  async #lookAtSagas(): Promise<void> {
    if (!this.#o.sagas) return;
    const seen = JSON.stringify(await this.#o.sagas.list(50));
    if (seen === this.#sagasSeen) return;
    this.#sagasSeen = seen;
    this.#o.hub.send('sagas', {});
  }

  /** Runs `look` every `ms`, never two at once; a failed look is retried at the next tick. */
  #loop(ms: number, look: () => Promise<unknown>): void {
    const tick = async (): Promise<void> => {
      if (!this.#running) return;
      try {
        await look();
      } catch {
        // a database busy or a process restarting: the next look tries again
      }
      if (!this.#running) return;
      const timer = setTimeout(() => {
        this.#timers.delete(timer);
        void tick();
      }, ms);
      timer.unref();
      this.#timers.add(timer);
    };
    void tick();
  }
}
