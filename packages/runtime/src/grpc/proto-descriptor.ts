import { create, createFileRegistry, type DescFile } from '@bufbuild/protobuf';
import {
  type DescriptorProto,
  DescriptorProtoSchema,
  type EnumDescriptorProto,
  EnumDescriptorProtoSchema,
  FieldDescriptorProto_Label,
  FieldDescriptorProto_Type,
  type FieldDescriptorProto,
  FieldDescriptorProtoSchema,
  type FileDescriptorProto,
  FileDescriptorProtoSchema,
  MethodOptions_IdempotencyLevel,
} from '@bufbuild/protobuf/wkt';
import { defaultJsonName, enumPrefix, typeNameOf } from './naming.ts';
import type { EnumModel, FieldModel, FieldType, FunctionModel, MessageModel, ScalarType } from './proto-model.ts';

const SCALAR: Record<ScalarType, FieldDescriptorProto_Type> = {
  string: FieldDescriptorProto_Type.STRING,
  bool: FieldDescriptorProto_Type.BOOL,
  double: FieldDescriptorProto_Type.DOUBLE,
  int32: FieldDescriptorProto_Type.INT32,
  int64: FieldDescriptorProto_Type.INT64,
};

export interface FileModel {
  readonly fileName: string;
  readonly pkg: string;
  readonly service: string;
  readonly functions: readonly FunctionModel[];
  readonly reserved: (kind: 'message' | 'enum', fullName: string) => { numbers: number[]; names: string[] };
}

/** The FileDescriptorProto protoc would produce from the rendered text (json_name filled in, as protoc does). */
export function fileDescriptorProto(model: FileModel): FileDescriptorProto {
  const messages = model.functions.flatMap((f) => [f.input, f.output]);
  return create(FileDescriptorProtoSchema, {
    name: model.fileName,
    package: model.pkg,
    syntax: 'proto3',
    messageType: messages.map((m) => messageProto(model, m)),
    service: [
      {
        name: model.service,
        method: model.functions.map((f) => ({
          name: f.rpc,
          inputType: `.${model.pkg}.${f.input.fullName}`,
          outputType: `.${model.pkg}.${f.output.fullName}`,
          ...(f.idempotent ? { options: { idempotencyLevel: MethodOptions_IdempotencyLevel.IDEMPOTENT } } : {}),
        })),
      },
    ],
  });
}

/** The descriptors of the file, resolved by @bufbuild/protobuf (which also validates them). */
export function descFile(proto: FileDescriptorProto): DescFile {
  const registry = createFileRegistry(proto, () => undefined);
  const file = registry.getFile(proto.name);
  if (!file) throw new Error(`registry lost ${proto.name}`);
  return file;
}

function messageProto(model: FileModel, msg: MessageModel): DescriptorProto {
  const fields: FieldDescriptorProto[] = [];
  // protoc adds a map's entry type when it reads the field, and the text has fields first
  const entries: DescriptorProto[] = [];
  const oneofs: string[] = [];
  const synthetic: { field: FieldDescriptorProto; name: string }[] = [];
  const typeRef = (t: FieldType): { type: FieldDescriptorProto_Type; typeName?: string } =>
    t.kind === 'scalar'
      ? { type: SCALAR[t.scalar] }
      : t.kind === 'enum'
        ? { type: FieldDescriptorProto_Type.ENUM, typeName: `.${model.pkg}.${t.enum.fullName}` }
        : { type: FieldDescriptorProto_Type.MESSAGE, typeName: `.${model.pkg}.${t.message.fullName}` };
  const fieldProto = (f: FieldModel, oneofIndex?: number): FieldDescriptorProto => {
    const base = {
      name: f.name,
      number: f.number,
      jsonName: f.jsonName ?? defaultJsonName(f.name),
      label: f.label === 'repeated' || f.label === 'map' ? FieldDescriptorProto_Label.REPEATED : FieldDescriptorProto_Label.OPTIONAL,
      ...(oneofIndex === undefined ? {} : { oneofIndex }),
    };
    if (f.label === 'map') {
      const entry = `${typeNameOf(f.name)}Entry`;
      entries.push(
        create(DescriptorProtoSchema, {
          name: entry,
          field: [
            { name: 'key', number: 1, jsonName: 'key', label: FieldDescriptorProto_Label.OPTIONAL, type: FieldDescriptorProto_Type.STRING },
            { name: 'value', number: 2, jsonName: 'value', label: FieldDescriptorProto_Label.OPTIONAL, ...typeRef(f.type) },
          ],
          options: { mapEntry: true },
        }),
      );
      return create(FieldDescriptorProtoSchema, { ...base, type: FieldDescriptorProto_Type.MESSAGE, typeName: `.${model.pkg}.${msg.fullName}.${entry}` });
    }
    return create(FieldDescriptorProtoSchema, { ...base, ...typeRef(f.type), ...(f.label === 'optional' ? { proto3Optional: true } : {}) });
  };
  for (const slot of msg.slots) {
    if (slot.kind === 'oneof') {
      const index = oneofs.push(slot.name) - 1;
      for (const o of slot.options) fields.push(fieldProto(o.field, index));
    } else {
      const f = fieldProto(slot.field);
      fields.push(f);
      if (slot.field.label === 'optional') synthetic.push({ field: f, name: slot.field.name });
    }
  }
  // protoc puts the synthetic oneofs of proto3 `optional` fields after the real ones
  const taken = new Set([...oneofs, ...fields.map((f) => f.name)]);
  for (const s of synthetic) {
    let name = `_${s.name}`;
    while (taken.has(name)) name = `X${name}`;
    taken.add(name);
    s.field.oneofIndex = oneofs.push(name) - 1;
  }
  const reserved = model.reserved('message', msg.fullName);
  return create(DescriptorProtoSchema, {
    name: msg.name,
    field: fields,
    nestedType: [...entries, ...msg.messages.map((m) => messageProto(model, m))],
    enumType: msg.enums.map((e) => enumProto(model, e)),
    oneofDecl: oneofs.map((name) => ({ name })),
    reservedRange: ranges(reserved.numbers).map(([start, end]) => ({ start, end: end + 1 })),
    reservedName: reserved.names,
  });
}

function enumProto(model: FileModel, e: EnumModel): EnumDescriptorProto {
  const reserved = model.reserved('enum', e.fullName);
  return create(EnumDescriptorProtoSchema, {
    name: e.name,
    value: [{ name: `${enumPrefix(e.name)}_UNSPECIFIED`, number: 0 }, ...e.values.map((v) => ({ name: v.name, number: v.number }))],
    reservedRange: ranges(reserved.numbers).map(([start, end]) => ({ start, end })),
    reservedName: reserved.names,
  });
}

/** Sorted numbers as inclusive runs: [1, 2, 3, 7] → [[1, 3], [7, 7]]. */
export function ranges(numbers: readonly number[]): [number, number][] {
  const out: [number, number][] = [];
  for (const n of [...numbers].sort((a, b) => a - b)) {
    const last = out.at(-1);
    if (last && n === last[1] + 1) last[1] = n;
    else out.push([n, n]);
  }
  return out;
}
