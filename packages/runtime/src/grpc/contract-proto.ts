import type { Contract } from 'carotene';
import { descFile, type FileModel, fileDescriptorProto } from './proto-descriptor.ts';
import { messageCodec } from './proto-codec.ts';
import { LockBook } from './proto-lock.ts';
import { type FunctionModel, ModelBuilder } from './proto-model.ts';
import { protoText } from './proto-text.ts';
import { pascalCase, protoPackage } from './naming.ts';
import { ProtoMappingError } from './proto-mapping-error.ts';
import type { ContractProto, ContractProtoOptions, ProtoFunction } from './types.ts';

/**
 * A contract as protobuf: the `.proto` text, the lock with numbers for new fields, the
 * descriptors and a codec per function side, all from one model. Throws ProtoMappingError
 * for a construct protobuf cannot carry (or, with `frozen`, a field the lock lacks).
 *
 * ```ts
 * const proto = contractProto(Catalog, { lock: readProtoLock(dir, 'catalog'), frozen: true });
 * const bytes = toBinary(proto.functions.getProduct.method.input, proto.functions.getProduct.input.toMessage({ id: 'p_1' }));
 * ```
 */
export function contractProto(contract: Contract, options: ContractProtoOptions = {}): ContractProto {
  const lock = new LockBook(options.lock, options.frozen ?? false);
  const pkg = protoPackage(contract.name);
  const rpcs = new Map<string, string>();
  const functions: FunctionModel[] = Object.entries(contract.functions).map(([name, fn]) => {
    const rpc = pascalCase(name);
    const clash = rpcs.get(rpc);
    if (clash !== undefined) throw new ProtoMappingError(`${contract.name}.${name}`, `functions '${clash}' and '${name}' both become rpc ${rpc}`);
    rpcs.set(rpc, name);
    const where = `${contract.name}.${name}`;
    return {
      name,
      rpc,
      idempotent: fn.idempotent,
      input: new ModelBuilder(lock, where, 'input').topMessage(`${rpc}Request`, fn.input),
      output: new ModelBuilder(lock, where, 'output').topMessage(`${rpc}Response`, fn.output),
    };
  });
  const finished = lock.finish();
  const model: FileModel = {
    fileName: `${contract.name}.proto`,
    pkg,
    service: pascalCase(contract.name),
    functions,
    reserved: (kind, name) => lock.reserved(kind, name),
  };
  const file = descFile(fileDescriptorProto(model));
  const service = file.services[0]!;
  const lookup = (fullName: string) => {
    const found = findMessage(file, `${pkg}.${fullName}`);
    if (!found) throw new Error(`descriptor of ${pkg}.${fullName} is missing`);
    return found;
  };
  const byName: Record<string, ProtoFunction> = {};
  for (const f of functions) {
    const where = `${contract.name}.${f.name}`;
    byName[f.name] = {
      method: service.methods.find((m) => m.name === f.rpc)!,
      input: messageCodec(f.input, lookup, 'input', where),
      output: messageCodec(f.output, lookup, 'output', where),
    };
  }
  return { contract, text: protoText(model, contract.name), lock: finished, file, service, functions: byName };
}

function findMessage(file: ContractProto['file'], typeName: string) {
  const walk = (messages: ContractProto['file']['messages']): ContractProto['file']['messages'][number] | undefined => {
    for (const m of messages) {
      if (m.typeName === typeName) return m;
      const inner = walk(m.nestedMessages);
      if (inner) return inner;
    }
    return undefined;
  };
  return walk(file.messages);
}
