import { AsyncLocalStorage } from 'node:async_hooks';
import { CaroteneError, isCaroteneError, platformError } from 'carotene/model';
import { installedFaults, withFaults } from '../resilience/fault-injector.ts';
import { jsonCopy as copy } from './json-copy.ts';
import type { CallMeta, Transport } from './transport.ts';
import { MAX_DEADLINE_MS } from './wire.ts';

/**
 * What an in-process call reaches: one service's runtime (`ServiceRuntime` fits). The
 * callee checks input, the caller's authorization and its permissions itself, exactly as it
 * does for a call that arrived over the network.
 */
export interface LocalService {
  invoke(fn: string, input: unknown, meta: CallMeta): Promise<unknown>;
}

// Captured at load, where no handler is running: every in-process call starts from this
// empty async context, as a call into another process would (no transaction or other
// async-local state of the caller leaks into the callee).
const detached = AsyncLocalStorage.snapshot();

/**
 * The services of one process, by name. A process that runs several services registers
 * each one's runtime once it has started; {@link InProcessTransport} calls them.
 */
export class LocalServices {
  readonly #services = new Map<string, LocalService>();

  register(name: string, service: LocalService): void {
    if (this.#services.has(name)) throw new TypeError(`service '${name}' is registered twice in this process`);
    this.#services.set(name, service);
  }

  get(name: string): LocalService | undefined {
    return this.#services.get(name);
  }
}

/**
 * Calls to services of the same process, as function calls with the network's guarantees:
 * input, output and errors are copied through JSON (so caller and callee never share an
 * object, and whatever survives the wire is exactly what survives here), the caller stops
 * waiting at its deadline with DEADLINE_EXCEEDED even if the callee keeps running, and the
 * caller is the service this transport was made for, never what `meta` claims: the
 * in-process counterpart of the identity in a certificate.
 *
 * ```ts
 * const local = new LocalServices();
 * local.register('catalog', catalogRuntime);
 * const fromOrders = new InProcessTransport('orders', local);
 * await fromOrders.call('catalog', 'getProducts', { ids }, meta);  // runs as caller 'orders'
 * ```
 */
export class InProcessTransport implements Transport {
  readonly #caller: string;
  readonly #services: LocalServices;

  constructor(caller: string, services: LocalServices) {
    this.#caller = caller;
    this.#services = services;
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    const target = this.#services.get(service);
    if (!target) throw platformError('UNAVAILABLE', `${service} is not running in this process (yet)`, { service });
    const now = Date.now();
    const remaining = meta.deadline - now;
    if (remaining <= 0) throw platformError('DEADLINE_EXCEEDED', `no time left to call ${service}.${fn}`, { service });
    const calleeMeta: CallMeta = {
      caller: this.#caller,
      requestId: meta.requestId,
      deadline: Math.min(meta.deadline, now + MAX_DEADLINE_MS),
      auth: meta.auth === undefined ? undefined : copy(meta.auth),
      idempotencyKey: meta.idempotencyKey,
      traceparent: meta.traceparent,
      tracestate: meta.tracestate,
    };
    // injected faults apply here as in the callee's server; a drop is what the caller would see
    const drop = (): never => {
      throw platformError('UNAVAILABLE', `${service} is unreachable (fault injected: connection dropped)`, { service });
    };
    const running = detached(() => withFaults(installedFaults()?.plan(service, fn), service, fn, drop, () => target.invoke(fn, copy(input), calleeMeta)));
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<never>((_resolve, reject) => {
      timer = setTimeout(() => reject(platformError('DEADLINE_EXCEEDED', `${service}.${fn} did not answer within ${remaining} ms`, { service })), remaining);
    });
    // the callee may still fail after we stopped waiting: that outcome is its own log's business
    running.catch(() => undefined);
    try {
      return copy(await Promise.race([running, expired]));
    } catch (err) {
      throw asReceived(err, service);
    } finally {
      clearTimeout(timer);
    }
  }

  async close(): Promise<void> {
    // nothing to release: the services belong to their hosts
  }
}

/**
 * The error the caller would have received over the network: a fresh `CaroteneError` with
 * the callee's code, status and copied details, and no stack or cause from the callee.
 */
function asReceived(err: unknown, service: string): CaroteneError {
  if (!isCaroteneError(err)) return platformError('INTERNAL', `${service} failed`, { service });
  return new CaroteneError(err.code, err.message, {
    status: err.status,
    domain: err.domain,
    service: err.service ?? service,
    details: err.details === undefined ? undefined : copy(err.details),
  });
}
