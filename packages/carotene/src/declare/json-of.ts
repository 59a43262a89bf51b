/**
 * The type a value has after a round trip through JSON (`JSON.parse(JSON.stringify(v))`),
 * which is how a saga keeps its steps' results: a `Date` becomes its ISO string, an
 * `undefined` at the top becomes `null` (the runner stores a step that returned nothing as
 * `null`), properties that may be `undefined` become optional, and what JSON cannot hold
 * (functions, symbols, bigints) becomes `never`.
 *
 * ```ts
 * type T = JsonOf<{ at: Date; note?: string }>; // { at: string; note?: string }
 * ```
 */
export type JsonOf<T> = unknown extends T ? unknown : JsonValue<T>;

// distributes over a union: `string | undefined` is `string | null`
type JsonValue<T> = T extends { toJSON(): infer J }
  ? JsonOf<J>
  : T extends string | number | boolean | null
    ? T
    : // biome-ignore lint/suspicious/noConfusingVoidType: a step whose run returns nothing is stored as null
      T extends undefined | void
      ? null
      : T extends bigint | symbol | ((...args: never[]) => unknown)
        ? never
        : T extends readonly unknown[]
          ? { -readonly [K in keyof T]: JsonOf<T[K]> } // an `undefined` item is written as `null`
          : JsonObject<T>;

type JsonObject<T> = Flat<
  { [K in keyof T as K extends string ? (undefined extends T[K] ? never : K) : never]: JsonOf<T[K]> } & {
    [K in keyof T as K extends string ? (undefined extends T[K] ? K : never) : never]?: JsonOf<Exclude<T[K], undefined>>;
  }
>;

/** An intersection shown as one object type in hovers and messages. */
export type Flat<T> = { [K in keyof T]: T[K] } & {};
