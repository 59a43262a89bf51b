/**
 * What a JSON round trip (`JSON.parse(JSON.stringify(value))`) returns, without the text in
 * between: the in-process transport's copy of every input, output and error detail, so that
 * caller and callee never share an object and a value survives an in-process call exactly as
 * it survives the wire. Plain objects, arrays and primitives are copied directly (several
 * times faster than the round trip); anything else (a `toJSON` method such as a Date's, a
 * class instance, a Map, a BigInt, a cycle, deep nesting) goes through the JSON round trip
 * itself, so the result, and the error for what JSON cannot carry, are the same.
 *
 * ```ts
 * jsonCopy({ at: new Date(0), n: NaN, skip: undefined, list: [undefined] }); // { at: '1970-01-01T00:00:00.000Z', n: null, list: [null] }
 * ```
 */
export function jsonCopy<T>(value: T): T {
  return value === undefined ? value : (copy(value, 0) as T);
}

/** Past this depth the round trip takes over: it reports a cycle as JSON does. */
const MAX_DEPTH = 64;

function copy(value: unknown, depth: number): unknown {
  switch (typeof value) {
    case 'string':
    case 'boolean':
      return value;
    case 'number':
      // -0 becomes 0, NaN and the infinities become null
      return Number.isFinite(value) ? value + 0 : null;
    case 'object':
      if (value === null) return null;
      if (depth >= MAX_DEPTH || typeof (value as { toJSON?: unknown }).toJSON === 'function') return roundTrip(value);
      if (Array.isArray(value)) {
        const out: unknown[] = new Array(value.length);
        for (let i = 0; i < value.length; i++) {
          const item: unknown = value[i];
          out[i] = skipped(item) ? null : copy(item, depth + 1);
        }
        return out;
      }
      {
        const proto: unknown = Object.getPrototypeOf(value);
        if (proto !== Object.prototype && proto !== null) return roundTrip(value);
        const out: Record<string, unknown> = {};
        for (const key in value) {
          if (!Object.hasOwn(value, key)) continue;
          const item = (value as Record<string, unknown>)[key];
          if (skipped(item)) continue;
          // JSON.parse makes "__proto__" an own property; an assignment would set the prototype
          if (key === '__proto__') Object.defineProperty(out, key, { value: copy(item, depth + 1), enumerable: true, writable: true, configurable: true });
          else out[key] = copy(item, depth + 1);
        }
        return out;
      }
    default:
      // bigint throws as JSON.stringify does; a top-level function or symbol gives undefined
      return roundTrip(value);
  }
}

/** Values JSON leaves out of an object (and turns into null in an array). */
function skipped(value: unknown): boolean {
  const t = typeof value;
  return t === 'undefined' || t === 'function' || t === 'symbol';
}

function roundTrip(value: unknown): unknown {
  const text = JSON.stringify(value);
  return text === undefined ? undefined : JSON.parse(text);
}
