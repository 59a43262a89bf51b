import { create, type DescField, type DescMessage, type DescOneof, type Message } from '@bufbuild/protobuf';
import { platformError } from 'carotene/model';
import type { z } from 'zod';
import type { FieldModel, FieldType, MessageModel, Slot } from './proto-model.ts';
import type { MessageCodec } from './types.ts';

type Lookup = (fullName: string) => DescMessage;
type Fail = (path: string, problem: string) => never;
type Rec = Record<string, unknown>;

/**
 * Plain value ⇄ message for one function side. `io` names the error a bad value raises:
 * INVALID_INPUT for what a caller passes, INVALID_OUTPUT for what a handler returns.
 */
export function messageCodec(model: MessageModel, lookup: Lookup, io: 'input' | 'output', where: string): MessageCodec {
  const fail: Fail = (path, problem) => {
    throw platformError(io === 'input' ? 'INVALID_INPUT' : 'INVALID_OUTPUT', `${where} ${path}: ${problem}`, { details: { path } });
  };
  const codec = new Codec(lookup, fail);
  return {
    toMessage: (value) => codec.encode(model, value, io),
    fromMessage: (message) => codec.decode(model, message),
  };
}

class Codec {
  readonly #lookup: Lookup;
  readonly #fail: Fail;
  readonly #descs = new Map<string, DescMessage>();

  constructor(lookup: Lookup, fail: Fail) {
    this.#lookup = lookup;
    this.#fail = fail;
  }

  #desc(model: MessageModel): DescMessage {
    let d = this.#descs.get(model.fullName);
    if (!d) {
      d = this.#lookup(model.fullName);
      this.#descs.set(model.fullName, d);
    }
    return d;
  }

  encode(model: MessageModel, value: unknown, path: string): Message {
    const desc = this.#desc(model);
    const init: Rec = {};
    if (model.shape === 'object') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) this.#fail(path, `expected an object, got ${kindOf(value)}`);
      for (const slot of model.slots) this.#encodeSlot(desc, slot, (value as Rec)[slot.key!], `${path}.${slot.key}`, init);
    } else if (model.shape === 'value') {
      this.#encodeSlot(desc, model.slots[0]!, value, path, init);
    } else if (value !== undefined && value !== null) {
      this.#fail(path, `expected nothing, got ${kindOf(value)}`);
    }
    return create(desc, init) as Message;
  }

  #encodeSlot(desc: DescMessage, slot: Slot, value: unknown, path: string, init: Rec): void {
    if (value === undefined || (value === null && !(slot.kind === 'field' && slot.nullInside))) {
      if (slot.absent === 'required') this.#fail(path, `is required, got ${kindOf(value)}`);
      if (value === null && slot.absent === 'undefined') this.#fail(path, 'may be left out but not null');
      return;
    }
    if (slot.kind === 'field') {
      init[fieldOf(desc, slot.field.name).localName] = this.#encodeField(slot.field, value, path);
      return;
    }
    const option = pickOption(slot, value) ?? this.#fail(path, 'matches none of the union’s options');
    const oneof = oneofOf(desc, slot.name);
    const type = option.field.type as Extract<FieldType, { kind: 'message' }>;
    init[oneof.localName] = { case: fieldOf(desc, option.field.name).localName, value: this.encode(type.message, value, path) };
  }

  #encodeField(field: FieldModel, value: unknown, path: string): unknown {
    if (field.label === 'repeated') {
      if (!Array.isArray(value)) this.#fail(path, `expected an array, got ${kindOf(value)}`);
      return value.map((item, i) => this.#encodeSingle(field.type, item, `${path}[${i}]`));
    }
    if (field.label === 'map') {
      if (typeof value !== 'object' || value === null || Array.isArray(value)) this.#fail(path, `expected an object, got ${kindOf(value)}`);
      return Object.fromEntries(Object.entries(value as Rec).map(([k, v]) => [k, this.#encodeSingle(field.type, v, `${path}.${k}`)]));
    }
    return this.#encodeSingle(field.type, value, path);
  }

  #encodeSingle(type: FieldType, value: unknown, path: string): unknown {
    if (type.kind === 'message') return this.encode(type.message, value, path);
    if (type.kind === 'enum') {
      const v = type.enum.values.find((x) => x.js === value);
      return v?.number ?? this.#fail(path, `expected one of ${type.enum.values.map((x) => JSON.stringify(x.js)).join(', ')}, got ${kindOf(value)}`);
    }
    let v = value;
    switch (type.scalar) {
      case 'string':
        if (typeof v !== 'string' && type.coerce) v = String(v);
        if (typeof v !== 'string') this.#fail(path, `expected a string, got ${kindOf(value)}`);
        return v;
      case 'bool':
        if (typeof v !== 'boolean' && type.coerce) v = Boolean(v);
        if (typeof v !== 'boolean') this.#fail(path, `expected a boolean, got ${kindOf(value)}`);
        return v;
      case 'double':
        if (typeof v !== 'number' && type.coerce) v = Number(v);
        if (typeof v !== 'number') this.#fail(path, `expected a number, got ${kindOf(value)}`);
        return v;
      case 'int32':
      case 'int64': {
        if (typeof v !== 'number' && type.coerce) v = Number(v);
        if (typeof v !== 'number' || !Number.isSafeInteger(v)) this.#fail(path, `expected an integer, got ${kindOf(value)}`);
        if (type.scalar === 'int32' && (v < -2_147_483_648 || v > 2_147_483_647)) this.#fail(path, `${v} does not fit int32`);
        return type.scalar === 'int64' ? BigInt(v) : v;
      }
    }
  }

  decode(model: MessageModel, message: Message): unknown {
    const desc = this.#desc(model);
    const m = message as unknown as Rec;
    if (model.shape === 'empty') return model.emptyValue;
    if (model.shape === 'value') return this.#decodeSlot(desc, model.slots[0]!, m);
    const out: Rec = {};
    for (const slot of model.slots) {
      const v = this.#decodeSlot(desc, slot, m);
      if (v !== undefined) out[slot.key!] = v;
    }
    return out;
  }

  #decodeSlot(desc: DescMessage, slot: Slot, m: Rec): unknown {
    const absent = slot.absent === 'null' ? null : undefined;
    if (slot.kind === 'oneof') {
      const chosen = m[oneofOf(desc, slot.name).localName] as { case: string | undefined; value?: Message };
      if (chosen.case === undefined) return absent;
      const option = slot.options.find((o) => fieldOf(desc, o.field.name).localName === chosen.case)!;
      const type = option.field.type as Extract<FieldType, { kind: 'message' }>;
      return this.decode(type.message, chosen.value!);
    }
    const f = slot.field;
    const raw = m[fieldOf(desc, f.name).localName];
    if (f.label === 'repeated') return (raw as unknown[]).map((item) => this.#decodeSingle(f.type, item));
    if (f.label === 'map') return Object.fromEntries(Object.entries(raw as Rec).map(([k, v]) => [k, this.#decodeSingle(f.type, v)]));
    if (raw === undefined) return absent;
    return this.#decodeSingle(f.type, raw);
  }

  #decodeSingle(type: FieldType, raw: unknown): unknown {
    if (type.kind === 'message') return this.decode(type.message, raw as Message);
    if (type.kind === 'enum') {
      if (raw === 0) return undefined; // UNSPECIFIED: as if left out, so zod names the missing value
      return type.enum.values.find((v) => v.number === raw)?.js ?? raw;
    }
    return typeof raw === 'bigint' ? Number(raw) : raw;
  }
}

function fieldOf(desc: DescMessage, name: string): DescField {
  const f = desc.fields.find((x) => x.name === name);
  if (!f) throw new Error(`${desc.typeName} has no field ${name}`);
  return f;
}

function oneofOf(desc: DescMessage, name: string): DescOneof {
  const o = desc.oneofs.find((x) => x.name === name);
  if (!o) throw new Error(`${desc.typeName} has no oneof ${name}`);
  return o;
}

/** The union option a value is: by its discriminator, else the first option zod accepts it as. */
function pickOption(slot: Extract<Slot, { kind: 'oneof' }>, value: unknown) {
  if (typeof value !== 'object' || value === null) return undefined;
  if (slot.discriminator !== undefined) {
    const tag = (value as Rec)[slot.discriminator];
    return slot.options.find((o) => o.tags.has(tag));
  }
  return slot.options.find((o) => (o.schema as z.ZodType).safeParse(value).success) ?? undefined;
}

function kindOf(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  if (typeof value === 'string') return `the string ${JSON.stringify(value.length > 40 ? `${value.slice(0, 40)}…` : value)}`;
  if (typeof value === 'number' || typeof value === 'boolean') return `${typeof value} ${value}`;
  return typeof value === 'object' ? 'an object' : String(typeof value);
}
