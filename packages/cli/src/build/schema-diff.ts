/** A JSON Schema as zod writes it; only the keywords the comparison reads are typed. */
export interface JsonSchema {
  readonly type?: string | readonly string[];
  readonly properties?: Readonly<Record<string, JsonSchema>>;
  readonly required?: readonly string[];
  readonly additionalProperties?: boolean | JsonSchema;
  readonly items?: JsonSchema;
  readonly anyOf?: readonly JsonSchema[];
  readonly oneOf?: readonly JsonSchema[];
  readonly enum?: readonly unknown[];
  readonly const?: unknown;
  readonly [keyword: string]: unknown;
}

/** Which side of a function a schema describes: callers send inputs and read outputs. */
export type Direction = 'input' | 'output';

export interface SchemaChange {
  /** Dotted path inside the schema, e.g. `items[].qty`. */
  readonly path: string;
  readonly message: string;
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;
const EXACT = ['pattern', 'format', 'multipleOf'] as const;

/**
 * The breaking changes from `before` to `after`. Inputs may not narrow (a caller's old
 * request must still be accepted), outputs may not widen (a caller must still understand
 * the answer); in both, a field may not disappear. Additions are fine: a new optional input
 * field, a new output field.
 */
export function breakingChanges(before: JsonSchema, after: JsonSchema, direction: Direction, path = ''): SchemaChange[] {
  const options = (s: JsonSchema): readonly JsonSchema[] => s.anyOf ?? s.oneOf ?? [s];
  if (before.anyOf || before.oneOf || after.anyOf || after.oneOf) {
    // every value the wider side must keep accepting has to fit some option of the other side
    const [must, may] = direction === 'input' ? [options(before), options(after)] : [options(after), options(before)];
    const changes: SchemaChange[] = [];
    for (const option of must) {
      const fits = may.some(
        (m) => (direction === 'input' ? breakingChanges(option, m, direction, path) : breakingChanges(m, option, direction, path)).length === 0,
      );
      if (!fits)
        changes.push({
          path: show(path),
          message: `${verb(direction)}: ${summary(option)} is no longer ${direction === 'input' ? 'accepted' : 'the only possibility'}`,
        });
    }
    return changes;
  }
  if (isObject(before) && isObject(after)) return objectChanges(before, after, direction, path);
  if (types(before).includes('array') && types(after).includes('array') && before.items && after.items) {
    return [...scalarChanges(before, after, direction, path), ...breakingChanges(before.items, after.items, direction, `${path}[]`)];
  }
  return scalarChanges(before, after, direction, path);
}

function objectChanges(before: JsonSchema, after: JsonSchema, direction: Direction, path: string): SchemaChange[] {
  const changes: SchemaChange[] = [];
  const was = new Set(before.required ?? []);
  const is = new Set(after.required ?? []);
  const props = after.properties ?? {};
  for (const [name, schema] of Object.entries(before.properties ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const at = path ? `${path}.${name}` : name;
    const next = props[name];
    if (!next) {
      changes.push({ path: at, message: `${direction} field removed` });
      continue;
    }
    if (direction === 'input' && is.has(name) && !was.has(name)) changes.push({ path: at, message: 'input field made required' });
    if (direction === 'output' && was.has(name) && !is.has(name)) changes.push({ path: at, message: 'output field made optional' });
    changes.push(...breakingChanges(schema, next, direction, at));
  }
  if (direction === 'input') {
    for (const name of [...is].sort()) {
      if (!(name in (before.properties ?? {}))) changes.push({ path: path ? `${path}.${name}` : name, message: 'input field added as required' });
    }
  }
  const extraBefore = before.additionalProperties;
  const extraAfter = after.additionalProperties;
  if (typeof extraBefore === 'object' && typeof extraAfter === 'object') changes.push(...breakingChanges(extraBefore, extraAfter, direction, `${path}{}`));
  return changes;
}

/** Bounds zod writes for every safe integer: not a constraint anyone declared. */
const bound = (v: unknown): number | undefined => (typeof v === 'number' && Math.abs(v) !== Number.MAX_SAFE_INTEGER ? v : undefined);

/**
 * Why `narrow` would reject something `wide` accepts (types, enums, bounds, formats),
 * told from `before` to `after`: for an input `wide` is before, for an output it is after.
 */
function lost(wide: JsonSchema, narrow: JsonSchema, direction: Direction): string[] {
  const reasons: string[] = [];
  const change = (was: string, is: string): string => (direction === 'input' ? `${was} -> ${is}` : `${is} -> ${was}`);
  const wideTypes = types(wide);
  const narrowTypes = types(narrow);
  if (narrowTypes.length > 0) {
    if (wideTypes.length === 0 && wide.enum === undefined && wide.const === undefined) reasons.push(change('any value', narrowTypes.join(' | ')));
    for (const t of wideTypes) {
      const ok = narrowTypes.includes(t) || (t === 'integer' && narrowTypes.includes('number'));
      if (!ok) reasons.push(change(t, narrowTypes.join(' | ')));
    }
  }
  const values = (s: JsonSchema): readonly unknown[] | undefined => s.enum ?? (s.const !== undefined ? [s.const] : undefined);
  const narrowValues = values(narrow);
  if (narrowValues) {
    const wideValues = values(wide);
    if (!wideValues)
      reasons.push(direction === 'input' ? `limited to ${JSON.stringify(narrowValues)}` : `no longer limited to ${JSON.stringify(narrowValues)}`);
    else {
      const gone = wideValues.filter((v) => !narrowValues.some((n) => JSON.stringify(n) === JSON.stringify(v)));
      if (gone.length > 0) reasons.push(direction === 'input' ? `no longer allows ${JSON.stringify(gone)}` : `may now be ${JSON.stringify(gone)}`);
    }
  }
  for (const k of LOWER_BOUNDS) {
    const n = bound(narrow[k]);
    const w = bound(wide[k]);
    if (n !== undefined && (w === undefined || n > w)) reasons.push(`${k} ${change(String(w ?? 'none'), String(n))}`);
  }
  for (const k of UPPER_BOUNDS) {
    const n = bound(narrow[k]);
    const w = bound(wide[k]);
    if (n !== undefined && (w === undefined || n < w)) reasons.push(`${k} ${change(String(w ?? 'none'), String(n))}`);
  }
  for (const k of EXACT) {
    if (narrow[k] !== undefined && JSON.stringify(narrow[k]) !== JSON.stringify(wide[k])) {
      reasons.push(`${k} ${change(JSON.stringify(wide[k] ?? null), JSON.stringify(narrow[k]))}`);
    }
  }
  if (narrow.additionalProperties === false && wide.additionalProperties !== false && isObject(wide)) reasons.push('unknown fields are refused');
  return reasons;
}

function scalarChanges(before: JsonSchema, after: JsonSchema, direction: Direction, path: string): SchemaChange[] {
  const reasons = direction === 'input' ? lost(before, after, direction) : lost(after, before, direction);
  return reasons.map((r) => ({ path: show(path), message: `${verb(direction)}: ${r}` }));
}

function verb(direction: Direction): string {
  return direction === 'input' ? 'input type narrowed' : 'output type widened';
}

function types(s: JsonSchema): readonly string[] {
  return s.type === undefined ? [] : typeof s.type === 'string' ? [s.type] : s.type;
}

function isObject(s: JsonSchema): boolean {
  return types(s).includes('object') && s.properties !== undefined;
}

function summary(s: JsonSchema): string {
  if (s.const !== undefined) return JSON.stringify(s.const);
  if (s.enum) return JSON.stringify(s.enum);
  return types(s).join(' | ') || 'any value';
}

function show(path: string): string {
  return path || '(the whole value)';
}
