import { implementedServices } from 'carotene/model';
import type { AppDef } from 'carotene/model';
import { listSagas, showSaga, type SagaDetail, type SagaSummary } from '@carotene/runtime/sagas';
import type { StoreOpener } from './event-feed.ts';

/** A saga instance and the service whose database keeps it (the orchestrator). */
export type SagaListing = SagaSummary & { readonly service: string };
export type SagaView = SagaDetail & { readonly service: string };

/**
 * The saga instances of every orchestrating service of an app (those that declare
 * `sagas`), read with the same queries as `carrot sagas`.
 *
 * ```ts
 * const sagas = SagaFeed.of(app, open);   // undefined when the app runs no saga
 * await sagas?.list(50);
 * ```
 */
export class SagaFeed {
  readonly #services: readonly string[];
  readonly #open: StoreOpener;

  private constructor(services: readonly string[], open: StoreOpener) {
    this.#services = services;
    this.#open = open;
  }

  static of(app: AppDef, open: StoreOpener): SagaFeed | undefined {
    const services = implementedServices(app)
      .filter((s) => (s.sagas ?? []).length > 0)
      .map((s) => s.name);
    return services.length > 0 ? new SagaFeed(services, open) : undefined;
  }

  /** The newest instances of every orchestrator, newest first. */
  async list(limit = 50): Promise<SagaListing[]> {
    const all: SagaListing[] = [];
    for (const service of this.#services) {
      const store = await this.#open(service);
      for (const saga of await listSagas(store.db, { limit })) all.push({ ...saga, service });
    }
    return all.sort((a, b) => b.startedAt - a.startedAt || a.id.localeCompare(b.id)).slice(0, limit);
  }

  /** One instance with its step history, from whichever orchestrator keeps it. */
  async show(id: string): Promise<SagaView | undefined> {
    for (const service of this.#services) {
      const saga = await showSaga((await this.#open(service)).db, id);
      if (saga) return { ...saga, service };
    }
    return undefined;
  }
}
