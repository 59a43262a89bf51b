// A form generated from a JSON Schema (what the contracts' zod schemas become in the
// OpenAPI document): a field per property, typed inputs for scalars, a JSON box for the rest.
import { h, pretty } from './dom.js';

/** The non-null part of a nullable schema (`anyOf: [X, {type: 'null'}]`). */
export function plain(schema = {}) {
  const options = schema.anyOf ?? schema.oneOf;
  if (Array.isArray(options)) {
    const real = options.filter((o) => o.type !== 'null');
    if (real.length === 1) return { ...real[0], description: schema.description ?? real[0].description };
  }
  return schema;
}

/** An example value for a schema: what a JSON box starts with. */
export function sampleOf(schema = {}, depth = 0) {
  const sch = plain(schema);
  if (sch.default !== undefined) return sch.default;
  if (sch.const !== undefined) return sch.const;
  if (Array.isArray(sch.enum)) return sch.enum[0];
  if (depth > 4) return null;
  switch (sch.type) {
    case 'object': return Object.fromEntries(Object.entries(sch.properties ?? {}).map(([k, v]) => [k, sampleOf(v, depth + 1)]));
    case 'array': return [sampleOf(sch.items ?? {}, depth + 1)];
    case 'integer': case 'number': return sch.minimum ?? (sch.exclusiveMinimum !== undefined ? sch.exclusiveMinimum + 1 : 1);
    case 'boolean': return false;
    case 'string': return sch.format === 'email' ? 'ada@example.com' : '';
    default: return null;
  }
}

/**
 * One field: an <input>, a <select> or a JSON <textarea>. `read()` gives the value, or
 * undefined when left empty (so optional fields are left out); it throws on bad JSON.
 */
export function field(name, schema, required) {
  const sch = plain(schema);
  const id = `f-${name}-${Math.random().toString(36).slice(2, 7)}`;
  const hint = [sch.type ?? (sch.enum ? 'enum' : 'any'), sch.format, required ? 'required' : 'optional'].filter(Boolean).join(' · ');
  let input;
  let read;
  if (Array.isArray(sch.enum) || sch.const !== undefined) {
    const values = sch.enum ?? [sch.const];
    input = h('select', { id, name }, required ? null : h('option', { value: '' }, '—'), values.map((v) => h('option', { value: JSON.stringify(v) }, String(v))));
    read = () => (input.value === '' ? undefined : JSON.parse(input.value));
  } else if (sch.type === 'boolean') {
    input = h('select', { id, name }, required ? null : h('option', { value: '' }, '—'), h('option', { value: 'true' }, 'true'), h('option', { value: 'false' }, 'false'));
    read = () => (input.value === '' ? undefined : input.value === 'true');
  } else if (sch.type === 'integer' || sch.type === 'number') {
    input = h('input', { id, name, type: 'number', step: sch.type === 'integer' ? 1 : 'any', min: sch.minimum, max: sch.maximum, placeholder: sch.type });
    read = () => (input.value === '' ? undefined : Number(input.value));
  } else if (sch.type === 'string' || sch.type === undefined && !sch.properties && !sch.items) {
    const secret = /password|secret/i.test(name);
    input = h('input', { id, name, type: secret ? 'password' : sch.format === 'email' ? 'email' : 'text', placeholder: sch.format ?? (sch.pattern ? `/${sch.pattern}/` : ''), minlength: sch.minLength, maxlength: sch.maxLength, autocomplete: 'off' });
    read = () => (input.value === '' ? undefined : input.value);
  } else {
    input = h('textarea', { id, name, rows: 4, class: 'json-input', spellcheck: 'false' });
    input.value = pretty(sampleOf(sch));
    read = () => {
      if (input.value.trim() === '') return undefined;
      try {
        return JSON.parse(input.value);
      } catch (err) {
        throw new Error(`${name}: not JSON (${err.message})`);
      }
    };
  }
  const wrapper = h('div', { class: 'field', dataset: { field: name } },
    h('label', { for: id }, name, required ? h('span', { class: 'req' }, ' *') : null, h('span', { class: 'hint' }, hint)),
    input,
    sch.description ? h('div', { class: 'muted small' }, sch.description) : null,
  );
  return { name, element: wrapper, input, read };
}

/** Fields for every property of an object schema, or one JSON box for anything else. */
export function bodyFields(schema) {
  const sch = plain(schema);
  if (sch.type === 'object' && sch.properties) {
    const required = new Set(sch.required ?? []);
    return Object.entries(sch.properties).map(([k, v]) => field(k, v, required.has(k)));
  }
  return [field('body', sch, true)];
}
