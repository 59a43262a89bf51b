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

/**
 * Which way a change must stay compatible: `backward`, the new schema accepts every value
 * the old one did (readers on the new version read what was written against the old);
 * `forward`, the old schema accepts every value the new one allows (readers still on the
 * old version read what the new one writes).
 */
export type Direction = 'backward' | 'forward';

export interface SchemaChange {
  /** Dotted path inside the schema, e.g. `items[].qty`. */
  readonly path: string;
  readonly message: string;
}

const LOWER_BOUNDS = ['minimum', 'exclusiveMinimum', 'minLength', 'minItems', 'minProperties'] as const;
const UPPER_BOUNDS = ['maximum', 'exclusiveMaximum', 'maxLength', 'maxItems', 'maxProperties'] as const;
const EXACT = ['pattern', 'format', 'multipleOf'] as const;

/**
 * The changes from `before` to `after` that break `direction` compatibility. Backward: no
 * type narrowed, no field made or added as required. Forward: no type widened, no required
 * field removed or made optional. Objects are read as zod reads them: a field a reader does
 * not know is dropped, so adding an optional field and dropping one are fine both ways.
 */
export function breakingChanges(before: JsonSchema, after: JsonSchema, direction: Direction, path = ''): SchemaChange[] {
  const options = (s: JsonSchema): readonly JsonSchema[] => s.anyOf ?? s.oneOf ?? [s];
  if (before.anyOf || before.oneOf || after.anyOf || after.oneOf) {
    // every value the wider side must keep accepting has to fit some option of the other side
    const [must, may] = direction === 'backward' ? [options(before), options(after)] : [options(after), options(before)];
    const changes: SchemaChange[] = [];
    for (const option of must) {
      const fits = may.some(
        (m) => (direction === 'backward' ? breakingChanges(option, m, direction, path) : breakingChanges(m, option, direction, path)).length === 0,
      );
      if (!fits)
        changes.push({
          path: show(path),
          message: `${verb(direction)}: ${summary(option)} is no longer ${direction === 'backward' ? 'accepted' : 'the only possibility'}`,
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
  const at = (name: string) => (path ? `${path}.${name}` : name);
  for (const [name, schema] of Object.entries(before.properties ?? {}).sort(([a], [b]) => a.localeCompare(b))) {
    const next = props[name];
    if (!next) {
      // backward: old values that carry it are still read (objects strip what they do not know); forward: old readers need it if it was required
      if (direction === 'forward' && was.has(name)) changes.push({ path: at(name), message: 'field removed' });
      continue;
    }
    if (direction === 'backward' && is.has(name) && !was.has(name)) changes.push({ path: at(name), message: 'field made required' });
    if (direction === 'forward' && was.has(name) && !is.has(name)) changes.push({ path: at(name), message: 'field made optional' });
    changes.push(...breakingChanges(schema, next, direction, at(name)));
  }
  if (direction === 'backward') {
    for (const name of [...is].sort()) if (!(name in (before.properties ?? {}))) changes.push({ path: at(name), message: 'field added as required' });
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
 * told from `before` to `after`: checking backward `wide` is before, forward it is after.
 */
function lost(wide: JsonSchema, narrow: JsonSchema, direction: Direction): string[] {
  const reasons: string[] = [];
  const change = (was: string, is: string): string => (direction === 'backward' ? `${was} -> ${is}` : `${is} -> ${was}`);
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
      reasons.push(direction === 'backward' ? `limited to ${JSON.stringify(narrowValues)}` : `no longer limited to ${JSON.stringify(narrowValues)}`);
    else {
      const gone = wideValues.filter((v) => !narrowValues.some((n) => JSON.stringify(n) === JSON.stringify(v)));
      if (gone.length > 0) reasons.push(direction === 'backward' ? `no longer allows ${JSON.stringify(gone)}` : `may now be ${JSON.stringify(gone)}`);
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
  const reasons = direction === 'backward' ? lost(before, after, direction) : lost(after, before, direction);
  return reasons.map((r) => ({ path: show(path), message: `${verb(direction)}: ${r}` }));
}

function verb(direction: Direction): string {
  return direction === 'backward' ? 'type narrowed' : 'type widened';
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
