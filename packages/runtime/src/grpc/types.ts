import type { DescFile, DescMethod, DescService, Message } from '@bufbuild/protobuf';
import type { Contract } from 'carotene';

/**
 * The field numbers of one contract's messages and enum values, checked in as
 * `proto/<contract>.lock.json`. A number once given is never given again: a removed field's
 * number (and name) is reserved. JSON-serialisable; write it with `formatProtoLock`.
 */
export interface ProtoLock {
  readonly version: 1;
  /** per message (full name inside the package, e.g. `GetOrderResponse.Items`) */
  readonly messages: Readonly<Record<string, ProtoLockEntry>>;
  /** per enum (full name inside the package); `<ENUM>_UNSPECIFIED = 0` is implied */
  readonly enums: Readonly<Record<string, ProtoLockEntry>>;
}

export interface ProtoLockEntry {
  /** field (or enum value) name → number */
  readonly numbers: Readonly<Record<string, number>>;
  /** numbers and names of removed fields (or values): never used again */
  readonly reserved: { readonly numbers: readonly number[]; readonly names: readonly string[] };
}

/** One contract as protobuf: its `.proto` text, lock, descriptors and codecs, all from one model. */
export interface ContractProto {
  readonly contract: Contract;
  /** The `.proto` source. */
  readonly text: string;
  /** The lock after assigning numbers to new fields. */
  readonly lock: ProtoLock;
  /** @bufbuild/protobuf v2 descriptors, built from the same model as `text`. */
  readonly file: DescFile;
  readonly service: DescService;
  /** per contract function name */
  readonly functions: Readonly<Record<string, ProtoFunction>>;
}

export interface ProtoFunction {
  /** For Connect's router and clients. */
  readonly method: DescMethod;
  readonly input: MessageCodec;
  readonly output: MessageCodec;
}

export interface MessageCodec {
  /**
   * A plain JS value of the zod schema (as a caller passes / a handler returns) → message.
   * Checks the types the wire needs (a string for a string field, a required field present);
   * zod's refinements stay zod's. Throws INVALID_INPUT (input codec) or INVALID_OUTPUT.
   */
  toMessage(value: unknown): Message;
  /** A decoded message → plain JS value, to be parsed by the zod schema. */
  fromMessage(message: Message): unknown;
}

export interface ContractProtoOptions {
  /** The previous lock; undefined = none (every field gets a new number). */
  readonly lock?: ProtoLock;
  /** Refuse to assign new numbers (at run time, and in `carrot build`): a field the lock lacks throws. */
  readonly frozen?: boolean;
}
