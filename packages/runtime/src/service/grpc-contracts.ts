import type { AppDef } from 'carotene/model';
import { contractProto, readProtoLock, type ContractProto } from '../grpc/index.ts';
import type { Logger } from './logger.ts';

/** Where a service process reads the contracts' field-number locks (`carrot dev` and `carrot build` set it). */
export const PROTO_DIR_ENV = 'CAROTENE_PROTO_DIR';

/**
 * The protobuf form of each contract the app knows (its services' and their integrations'),
 * by contract name, built once on first use. With a proto folder, numbers come from its
 * checked-in locks and none is invented (`frozen`): a contract that does not map, or whose
 * lock lacks a field, is logged once and has no gRPC form (its carotene-rpc/1 and HTTP/1.1
 * calls are not affected). Without one (tests, a bare process), numbers are assigned in
 * declaration order, as a first `carrot contracts proto` would.
 */
export function grpcContracts(app: AppDef, options: { dir?: string | undefined; log: Logger }): (name: string) => ContractProto | undefined {
  const contracts = new Map(app.services.flatMap((s) => [s.contract, ...s.integrations]).map((c) => [c.name, c]));
  const built = new Map<string, ContractProto | undefined>();
  return (name) => {
    if (built.has(name)) return built.get(name);
    const contract = contracts.get(name);
    let proto: ContractProto | undefined;
    if (contract) {
      try {
        proto = options.dir ? contractProto(contract, { lock: readProtoLock(options.dir, name), frozen: true }) : contractProto(contract);
      } catch (err) {
        options.log.warn({ contract: name, err: (err as Error).message }, `contract ${name} has no gRPC form: ${(err as Error).message}`);
      }
    }
    built.set(name, proto);
    return proto;
  };
}
