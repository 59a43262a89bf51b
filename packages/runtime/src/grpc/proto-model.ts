import type { z } from 'zod';
import type { LockBook } from './proto-lock.ts';
import { ProtoMappingError } from './proto-mapping-error.ts';
import { defaultJsonName, enumPrefix, enumValueName, snakeCase, typeNameOf } from './naming.ts';

/**
 * The protobuf model of a contract, from which the `.proto` text, the descriptors and the
 * codecs are all built, so that they cannot disagree.
 */
export type ScalarType = 'string' | 'bool' | 'double' | 'int32' | 'int64';

export type FieldType =
  | { readonly kind: 'scalar'; readonly scalar: ScalarType; readonly coerce: boolean }
  | { readonly kind: 'enum'; readonly enum: EnumModel }
  | { readonly kind: 'message'; readonly message: MessageModel };

export interface FieldModel {
  /** proto name (snake_case) */
  readonly name: string;
  readonly number: number;
  /** set only when protoc's default (camelCase of the name) differs from the zod key */
  readonly jsonName: string | undefined;
  readonly type: FieldType;
  /** `optional`: proto3 explicit presence; `map`: map<string, type> */
  readonly label: 'plain' | 'optional' | 'repeated' | 'map';
}

/** What an unset field (or no oneof case) decodes to, and whether encoding may leave it unset. */
export type Absent = 'required' | 'undefined' | 'null';

/** One zod key (or the wrapped value) of a message: a field, or a oneof of objects. */
export type Slot =
  | {
      readonly kind: 'field';
      readonly key: string | null;
      readonly field: FieldModel;
      readonly absent: Absent;
      /** a wrapper message that carries null inside (nullish values): null is encoded, not left out */
      readonly nullInside?: true;
    }
  | {
      readonly kind: 'oneof';
      readonly key: string | null;
      readonly name: string;
      readonly absent: Absent;
      /** how to recognise a value: its discriminator, or the option's schema */
      readonly discriminator: string | undefined;
      readonly options: readonly OneofOption[];
    };

export interface OneofOption {
  readonly field: FieldModel;
  readonly schema: z.ZodType;
  /** discriminator values of this option */
  readonly tags: ReadonlySet<unknown>;
}

export interface MessageModel {
  readonly name: string;
  /** inside the package: `GetOrderResponse.Items` */
  readonly fullName: string;
  /** `object`: a zod object; `value`: the value is the one slot; `empty`: no fields, decodes to `emptyValue` */
  readonly shape: 'object' | 'value' | 'empty';
  readonly emptyValue: undefined | null;
  readonly slots: Slot[];
  readonly messages: MessageModel[];
  readonly enums: EnumModel[];
}

export interface EnumModel {
  readonly name: string;
  readonly fullName: string;
  /** without `<ENUM>_UNSPECIFIED = 0` */
  readonly values: readonly { readonly name: string; readonly number: number; readonly js: string | number }[];
}

export interface FunctionModel {
  readonly name: string;
  readonly rpc: string;
  readonly idempotent: boolean;
  readonly input: MessageModel;
  readonly output: MessageModel;
}

type Io = 'input' | 'output';
type AnyDef = { type: string } & Record<string, unknown>;
const defOf = (s: z.ZodType): AnyDef => (s as unknown as { _zod: { def: AnyDef } })._zod.def;

/** A schema without its wrappers, and what they said. */
interface Unwrapped {
  readonly core: z.ZodType;
  readonly optional: boolean;
  readonly nullable: boolean;
  /** default, prefault or catch: the value may be left out */
  readonly defaulted: boolean;
}

const INT32 = { min: -2_147_483_648, max: 2_147_483_647 };

/** Builds the model of one function side, numbering fields from the lock. */
export class ModelBuilder {
  readonly #lock: LockBook;
  readonly #where: string;
  readonly #io: Io;
  /** schemas being mapped, to refuse recursion instead of looping */
  readonly #stack = new Set<z.ZodType>();

  constructor(lock: LockBook, where: string, io: Io) {
    this.#lock = lock;
    this.#where = where;
    this.#io = io;
  }

  /** The top-level message `<Rpc>Request` / `<Rpc>Response` of a function side. */
  topMessage(name: string, schema: z.ZodType): MessageModel {
    const path = this.#io;
    const u = this.#unwrap(schema, path);
    const plain = !u.optional && !u.nullable && !u.defaulted;
    const type = defOf(u.core).type;
    if (plain && type === 'object') return this.#objectMessage(name, '', u.core, path);
    if (plain && (type === 'void' || type === 'undefined' || type === 'null')) {
      this.#lock.touch('message', name);
      return { name, fullName: name, shape: 'empty', emptyValue: type === 'null' ? null : undefined, slots: [], messages: [], enums: [] };
    }
    return this.#valueMessage(name, '', u, path);
  }

  #fail(path: string, problem: string): never {
    throw new ProtoMappingError(`${this.#where} ${path}`, problem);
  }

  #unwrap(schema: z.ZodType, path: string): Unwrapped {
    let s = schema;
    let optional = false;
    let nullable = false;
    let defaulted = false;
    for (;;) {
      const def = defOf(s);
      switch (def.type) {
        case 'optional':
          optional = true;
          s = def.innerType as z.ZodType;
          continue;
        case 'nullable':
          nullable = true;
          s = def.innerType as z.ZodType;
          continue;
        case 'default':
        case 'prefault':
        case 'catch':
          defaulted = true;
          s = def.innerType as z.ZodType;
          continue;
        case 'readonly':
          s = def.innerType as z.ZodType;
          continue;
        case 'nonoptional': {
          const inner = this.#unwrap(def.innerType as z.ZodType, path);
          return { core: inner.core, optional: false, defaulted: false, nullable: nullable || inner.nullable };
        }
        case 'pipe':
          // the wire carries what crosses it: a caller's input before parsing, a handler's output after
          s = (this.#io === 'input' ? def.in : def.out) as z.ZodType;
          continue;
        case 'lazy':
          s = (def.getter as () => z.ZodType)();
          continue;
        case 'union': {
          const options = def.options as z.ZodType[];
          const rest = options.filter((o) => {
            const t = defOf(o).type;
            if (t === 'null') nullable = true;
            else if (t === 'undefined' || t === 'void') optional = true;
            else return true;
            return false;
          });
          if (rest.length === 1 && rest.length !== options.length) {
            s = rest[0]!;
            continue;
          }
          if (rest.length === 0) this.#fail(path, 'a z.union() of only null or undefined has no protobuf mapping');
          if (rest.length !== options.length) s = { _zod: { def: { ...def, options: rest } } } as unknown as z.ZodType;
          return { core: s, optional, nullable, defaulted };
        }
        default:
          return { core: s, optional, nullable, defaulted };
      }
    }
  }

  #newMessage(name: string, parent: string, shape: MessageModel['shape']): MessageModel {
    const fullName = parent ? `${parent}.${name}` : name;
    this.#lock.touch('message', fullName);
    return { name, fullName, shape, emptyValue: undefined, slots: [], messages: [], enums: [] };
  }

  #objectMessage(name: string, parent: string, schema: z.ZodType, path: string): MessageModel {
    if (this.#stack.has(schema)) this.#fail(path, 'a recursive schema (z.lazy() back to an enclosing object) has no protobuf mapping');
    const msg = this.#newMessage(name, parent, 'object');
    this.#stack.add(schema);
    const shape = defOf(schema).shape as Record<string, z.ZodType>;
    for (const [key, field] of Object.entries(shape)) {
      const fieldPath = `${path}.${key}`;
      const fieldName = snakeCase(key) ?? this.#fail(fieldPath, `key '${key}' cannot be a protobuf field name (it needs a letter first)`);
      const jsonName = defaultJsonName(fieldName) === key ? undefined : key;
      this.#slot(msg, key, fieldName, jsonName, this.#unwrap(field, fieldPath), fieldPath);
    }
    this.#stack.delete(schema);
    this.#checkNames(msg, path);
    return msg;
  }

  /** A message whose one slot `value` is the whole value (not an object, or one that may be absent). */
  #valueMessage(name: string, parent: string, u: Unwrapped, path: string): MessageModel {
    const msg = this.#newMessage(name, parent, 'value');
    this.#slot(msg, null, 'value', undefined, u, path);
    this.#checkNames(msg, path);
    return msg;
  }

  #slot(msg: MessageModel, key: string | null, fieldName: string, jsonName: string | undefined, u: Unwrapped, path: string): void {
    const presence = u.optional || u.nullable || u.defaulted;
    const absent: Absent = !presence ? 'required' : u.nullable && !u.optional && !u.defaulted ? 'null' : 'undefined';
    const typeName = typeNameOf(fieldName);
    const def = defOf(u.core);
    // null and absent are two answers here, so the presence of a wrapper message tells them apart
    const nullish = u.nullable && (u.optional || u.defaulted);
    const repeatedLike = def.type === 'array' || def.type === 'record';
    const oneof = !nullish && def.type === 'union' && this.#isObjectUnion(u.core);
    // numbered before its type is mapped, so that a frozen lock names the outermost missing field
    const number = oneof ? 0 : this.#number(msg.fullName, fieldName, path);
    const field = (type: FieldType, label: FieldModel['label']): FieldModel => ({ name: fieldName, number, jsonName, type, label });
    if (nullish || (presence && repeatedLike)) {
      const wrapper = this.#valueMessage(typeName, msg.fullName, { ...u, optional: false, defaulted: false, nullable: nullish }, path);
      msg.messages.push(wrapper);
      const slot: Slot = { kind: 'field', key, field: field({ kind: 'message', message: wrapper }, 'plain'), absent };
      msg.slots.push(nullish ? { ...slot, nullInside: true } : slot);
      return;
    }
    switch (def.type) {
      case 'object': {
        const nested = this.#objectMessage(typeName, msg.fullName, u.core, path);
        msg.messages.push(nested);
        msg.slots.push({ kind: 'field', key, field: field({ kind: 'message', message: nested }, 'plain'), absent });
        return;
      }
      case 'array':
      case 'record': {
        const isMap = def.type === 'record';
        if (isMap) this.#checkMapKey(def.keyType as z.ZodType, `${path}{}`);
        const itemPath = isMap ? `${path}{}` : `${path}[]`;
        const item = this.#unwrap((isMap ? def.valueType : def.element) as z.ZodType, itemPath);
        const type = this.#itemType(msg, typeName, isMap ? 'Value' : 'Item', item, itemPath);
        msg.slots.push({ kind: 'field', key, field: field(type, isMap ? 'map' : 'repeated'), absent: 'required' });
        return;
      }
    }
    if (oneof) {
      msg.slots.push(this.#oneof(msg, key, fieldName, u.core, absent, path));
      return;
    }
    const type = this.#singularType(msg, typeName, u.core, path);
    msg.slots.push({ kind: 'field', key, field: field(type, presence ? 'optional' : 'plain'), absent });
  }

  /** The type of an array item or map value; one that cannot stand there directly gets a wrapper message. */
  #itemType(msg: MessageModel, typeName: string, suffix: string, item: Unwrapped, path: string): FieldType {
    const t = defOf(item.core).type;
    const direct = !item.optional && !item.nullable && !item.defaulted && t !== 'array' && t !== 'record' && !(t === 'union' && this.#isObjectUnion(item.core));
    if (!direct) {
      const wrapper = this.#valueMessage(`${typeName}${suffix}`, msg.fullName, item, path);
      msg.messages.push(wrapper);
      return { kind: 'message', message: wrapper };
    }
    if (t === 'object') {
      const nested = this.#objectMessage(typeName, msg.fullName, item.core, path);
      msg.messages.push(nested);
      return { kind: 'message', message: nested };
    }
    return this.#singularType(msg, typeName, item.core, path);
  }

  #singularType(msg: MessageModel, typeName: string, core: z.ZodType, path: string): FieldType {
    const def = defOf(core);
    switch (def.type) {
      case 'string':
      case 'template_literal':
        return { kind: 'scalar', scalar: 'string', coerce: def.coerce === true };
      case 'boolean':
        return { kind: 'scalar', scalar: 'bool', coerce: def.coerce === true };
      case 'number':
        return { kind: 'scalar', scalar: this.#numberScalar(core), coerce: def.coerce === true };
      case 'literal':
        return { kind: 'scalar', scalar: this.#literalScalar(def.values as unknown[], path), coerce: false };
      case 'enum':
        return { kind: 'enum', enum: this.#enum(msg, typeName, def.entries as Record<string, string | number>, path) };
      case 'union': {
        const scalars = (def.options as z.ZodType[]).map((o) => this.#singularType(msg, typeName, this.#unwrap(o, path).core, path));
        const first = scalars[0];
        if (first?.kind === 'scalar' && scalars.every((s) => s.kind === 'scalar' && s.scalar === first.scalar)) return { ...first, coerce: false };
        return this.#fail(path, 'z.union() of mixed types has no protobuf mapping (only unions of objects, or of one scalar type)');
      }
    }
    return this.#fail(path, `${zodName(def.type)} has no protobuf mapping`);
  }

  #numberScalar(schema: z.ZodType): ScalarType {
    const n = schema as unknown as { isInt?: boolean; minValue?: number | null; maxValue?: number | null; format?: string | null };
    if (!n.isInt) return 'double';
    const min = n.minValue ?? Number.NEGATIVE_INFINITY;
    const max = n.maxValue ?? Number.POSITIVE_INFINITY;
    return min >= INT32.min && max <= INT32.max ? 'int32' : 'int64';
  }

  #literalScalar(values: unknown[], path: string): ScalarType {
    const kinds = new Set(values.map((v) => typeof v));
    if (kinds.size === 1 && kinds.has('string')) return 'string';
    if (kinds.size === 1 && kinds.has('boolean')) return 'bool';
    if (kinds.size === 1 && kinds.has('number')) return 'double';
    return this.#fail(
      path,
      `z.literal(${values.map((v) => (typeof v === 'bigint' ? `${v}n` : (JSON.stringify(v) ?? String(v)))).join(', ')}) has no protobuf mapping`,
    );
  }

  #enum(msg: MessageModel, name: string, entries: Record<string, string | number>, path: string): EnumModel {
    const fullName = `${msg.fullName}.${name}`;
    this.#lock.touch('enum', fullName);
    const prefix = enumPrefix(name);
    const seen = new Map<string, string>([[`${prefix}_UNSPECIFIED`, '(unspecified)']]);
    const values = Object.entries(entries).map(([key, js]) => {
      const bare = enumValueName(key) ?? this.#fail(path, `enum value '${key}' cannot be a protobuf enum value name`);
      const valueName = `${prefix}_${bare}`;
      const clash = seen.get(valueName);
      if (clash !== undefined) this.#fail(path, `enum values '${key}' and '${clash}' both become ${valueName}`);
      seen.set(valueName, key);
      const number = this.#lock.enumValue(fullName, valueName) ?? this.#noNumber(path, `enum value ${valueName} of ${fullName}`);
      return { name: valueName, number, js };
    });
    const model: EnumModel = { name, fullName, values };
    msg.enums.push(model);
    return model;
  }

  #isObjectUnion(core: z.ZodType): boolean {
    return (defOf(core).options as z.ZodType[]).every((o) => defOf(this.#unwrap(o, this.#io).core).type === 'object');
  }

  #oneof(msg: MessageModel, key: string | null, name: string, core: z.ZodType, absent: Absent, path: string): Slot {
    const def = defOf(core);
    const discriminator = typeof def.discriminator === 'string' ? def.discriminator : undefined;
    const options = (def.options as z.ZodType[]).map((option, i) => {
      const tags = discriminator ? (propValues(option)[discriminator] ?? new Set<unknown>()) : new Set<unknown>();
      const [tag] = tags;
      const suffix = tags.size === 1 && typeof tag === 'string' && snakeCase(tag) ? snakeCase(tag)! : String(i + 1);
      const fieldName = `${name}_${suffix}`;
      const optionPath = `${path}(${discriminator ? `${discriminator}=${String(tag)}` : i + 1})`;
      const number = this.#number(msg.fullName, fieldName, optionPath);
      const nested = this.#objectMessage(typeNameOf(fieldName), msg.fullName, this.#unwrap(option, optionPath).core, optionPath);
      msg.messages.push(nested);
      const field: FieldModel = {
        name: fieldName,
        number,
        jsonName: undefined,
        type: { kind: 'message', message: nested },
        label: 'plain',
      };
      return { field, schema: option, tags };
    });
    return { kind: 'oneof', key, name, absent, discriminator, options };
  }

  #checkMapKey(keyType: z.ZodType, path: string): void {
    const t = defOf(this.#unwrap(keyType, path).core).type;
    const stringish = t === 'string' || t === 'template_literal' || t === 'enum' || t === 'literal';
    if (!stringish) this.#fail(path, `a z.record() keyed by ${zodName(t)} has no protobuf mapping (map keys are strings)`);
  }

  #number(message: string, field: string, path: string): number {
    return this.#lock.field(message, field) ?? this.#noNumber(path, `field ${field} of ${message}`);
  }

  #noNumber(path: string, what: string): never {
    return this.#fail(path, `the lock has no number for ${what}; run 'carrot contracts proto' and commit the proto directory`);
  }

  /** Field names, nested type names and enum values share a scope in protobuf. */
  #checkNames(msg: MessageModel, path: string): void {
    const seen = new Set<string>();
    const add = (name: string, what: string): void => {
      if (seen.has(name)) this.#fail(path, `two ${what}s of ${msg.fullName} are both named ${name}; rename a key`);
      seen.add(name);
    };
    for (const slot of msg.slots) {
      if (slot.kind === 'field') add(slot.field.name, 'field');
      else {
        add(slot.name, 'oneof');
        for (const o of slot.options) add(o.field.name, 'field');
      }
      if (slot.kind === 'field' && slot.field.label === 'map') add(`${typeNameOf(slot.field.name)}Entry`, 'type');
    }
    for (const m of msg.messages) add(m.name, 'type');
    for (const e of msg.enums) {
      add(e.name, 'type');
      for (const v of [`${enumPrefix(e.name)}_UNSPECIFIED`, ...e.values.map((x) => x.name)]) add(v, 'enum value');
    }
  }
}

function propValues(schema: z.ZodType): Record<string, Set<unknown>> {
  return (schema as unknown as { _zod: { propValues?: Record<string, Set<unknown>> } })._zod.propValues ?? {};
}

/** `bigint` → `z.bigint()`, `template_literal` → `z.templateLiteral()`. */
function zodName(type: string): string {
  return `z.${type.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase())}()`;
}
