import type { Contract } from 'carotene/model';
import { CaroteneError, platformError } from 'carotene/model';
import type { CallMeta, Transport } from '@carotene/runtime/transport';

export interface MockTools {
  /** Builds the provider's declared domain error, as the real service would raise it. */
  reject(code: string, message?: string): CaroteneError;
  readonly meta: CallMeta;
}

export type MockImpl = unknown | ((input: unknown, tools: MockTools) => unknown);

export interface RecordedCall {
  readonly service: string;
  readonly fn: string;
  readonly input: unknown;
  readonly meta: CallMeta;
}

/** Answers integration calls from mocks; an unmocked call fails with NOT_MOCKED. */
export class MockTransport implements Transport {
  readonly calls: RecordedCall[] = [];
  readonly #contracts: ReadonlyMap<string, Contract>;
  readonly #mocks: Readonly<Record<string, Readonly<Record<string, MockImpl>> | undefined>>;

  constructor(contracts: readonly Contract[], mocks: Readonly<Record<string, Readonly<Record<string, MockImpl>> | undefined>>) {
    this.#contracts = new Map(contracts.map((c) => [c.name, c]));
    this.#mocks = mocks;
  }

  async call(service: string, fn: string, input: unknown, meta: CallMeta): Promise<unknown> {
    this.calls.push({ service, fn, input, meta });
    const mock = this.#mocks[service]?.[fn];
    if (mock === undefined) {
      throw platformError('NOT_MOCKED', `the test called ${service}.${fn}, which it did not mock: add mock: { ${service}: { ${fn}: ... } }`, { service });
    }
    if (typeof mock !== 'function') return structuredClone(mock);
    const rpc = this.#contracts.get(service)?.functions[fn];
    const parsed = rpc ? rpc.input.parse(input) : input;
    const reject = (code: string, message = code): CaroteneError => {
      const status = rpc?.errors[code];
      if (status === undefined) throw new TypeError(`mock of ${service}.${fn} rejected with '${code}', which its contract does not declare`);
      return new CaroteneError(code, message, { status, domain: true, service });
    };
    try {
      return await (mock as (input: unknown, tools: MockTools) => unknown)(parsed, { reject, meta });
    } catch (err) {
      if (err instanceof CaroteneError) throw withService(err, service);
      throw err;
    }
  }

  async close(): Promise<void> {}
}

function withService(err: CaroteneError, service: string): CaroteneError {
  return err.service ? err : new CaroteneError(err.code, err.message, { status: err.status, domain: err.domain, service, details: err.details });
}
