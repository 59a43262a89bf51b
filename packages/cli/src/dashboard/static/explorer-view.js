// API explorer: every public route of the OpenAPI document, a form generated from its
// schema, and the answer of the gateway (the dashboard forwards the request to it).
import { api, colourOf, empty, h, kids, ms, pretty } from './dom.js';
import { bodyFields, field } from './schema-form.js';

const TOKEN_KEY = 'carotene.dashboard.token';

export class ExplorerView {
  constructor(root, app) {
    this.root = root;
    this.app = app;
    this.stale = true;
    this.operations = [];
    this.current = undefined;
    this.nav = h('nav', { class: 'panel ops', id: 'operations' });
    this.form = h('div', { class: 'panel op-form', id: 'operation' });
    this.token = h('input', { id: 'token', type: 'text', placeholder: 'paste a token, or log in below and click “Use this token”', autocomplete: 'off', spellcheck: 'false' });
    this.token.value = localStorage.getItem(TOKEN_KEY) ?? '';
    this.token.addEventListener('input', () => localStorage.setItem(TOKEN_KEY, this.token.value));
    root.append(
      h('div', { class: 'view-head' }, h('h1', {}, 'API explorer'), h('p', { class: 'muted' }, `Every public route, sent through the gateway at ${app.gateway}.`)),
      h('div', { class: 'panel token-bar' }, h('label', { for: 'token' }, 'Bearer token'), this.token, h('button', { class: 'button', onclick: () => { this.token.value = ''; localStorage.removeItem(TOKEN_KEY); } }, 'Clear')),
      h('div', { class: 'explorer-layout' }, this.nav, this.form),
    );
  }

  async show([operationId]) {
    if (this.stale) {
      this.stale = false;
      const doc = await api('/api/openapi');
      this.operations = Object.entries(doc.paths).flatMap(([path, ops]) => Object.entries(ops).map(([method, op]) => ({ path, method: method.toUpperCase(), ...op })));
      this.renderNav();
    }
    const first = this.nav.querySelector('.op-link')?.dataset.operation;
    const op = this.operations.find((o) => o.operationId === operationId) ?? this.current ?? this.operations.find((o) => o.operationId === first);
    if (op && op !== this.current) this.select(op);
  }

  refresh() {}

  renderNav() {
    this.nav.replaceChildren();
    const byTag = new Map();
    for (const op of this.operations) byTag.set(op.tags?.[0] ?? 'api', [...(byTag.get(op.tags?.[0] ?? 'api') ?? []), op]);
    for (const [tag, ops] of [...byTag].sort(([a], [b]) => a.localeCompare(b))) {
      this.nav.append(h('h3', {}, h('span', { class: 'svc-dot', style: `--c:${colourOf(tag)}` }), tag));
      for (const op of ops) {
        this.nav.append(h('a', { href: `#api/${encodeURIComponent(op.operationId)}`, class: 'op-link', dataset: { operation: op.operationId } },
          h('span', { class: `method m-${op.method.toLowerCase()}` }, op.method), h('span', { class: 'op-path' }, op.path), op.security?.some((s) => s.bearerAuth) ? h('span', { class: 'lock', title: op.security.some((s) => !s.bearerAuth) ? 'a token is optional' : 'needs a token' }, 'token') : null));
      }
    }
  }

  select(op) {
    this.current = op;
    for (const a of this.nav.querySelectorAll('.op-link')) a.classList.toggle('active', a.dataset.operation === op.operationId);
    const params = (op.parameters ?? []).map((p) => ({ in: p.in, ...field(p.name, p.schema, p.required) }));
    const bodySchema = op.requestBody?.content?.['application/json']?.schema;
    const body = bodySchema ? bodyFields(bodySchema) : [];
    const result = h('div', { class: 'response', id: 'response' });
    const error = h('div', { class: 'error-text small' });
    const send = h('button', { class: 'button primary', id: 'send', type: 'submit' }, 'Send');
    const form = h('form', { onsubmit: (e) => { e.preventDefault(); void this.send(op, params, body, result, error, send); } },
      params.filter((p) => p.in === 'path').length ? [h('h3', {}, 'Path'), params.filter((p) => p.in === 'path').map((p) => p.element)] : null,
      params.filter((p) => p.in === 'query').length ? [h('h3', {}, 'Query'), params.filter((p) => p.in === 'query').map((p) => p.element)] : null,
      body.length ? [h('h3', {}, 'Body'), body.map((f) => f.element)] : null,
      h('div', { class: 'actions' }, send, error),
    );
    const answers = Object.entries(op.responses ?? {}).map(([status, r]) => h('li', {}, h('span', { class: `status-code s${status[0]}xx` }, status), ' ', r.description));
    this.form.replaceChildren(
      h('h2', {}, h('span', { class: `method m-${op.method.toLowerCase()}` }, op.method), ' ', h('code', {}, op.path)),
      h('div', { class: 'muted small' }, op.operationId, op.security?.some((s) => s.bearerAuth) ? ' · needs a bearer token' : '', op.description ? ` · ${op.description}` : ''),
      form,
      result,
      h('details', { class: 'answers' }, h('summary', {}, 'Possible answers'), h('ul', { class: 'plain small' }, answers)),
    );
    if (location.hash !== `#api/${encodeURIComponent(op.operationId)}`) history.replaceState(null, '', `#api/${encodeURIComponent(op.operationId)}`);
  }

  async send(op, params, body, result, error, button) {
    error.textContent = '';
    let path = op.path;
    const query = new URLSearchParams();
    let payload;
    try {
      for (const p of params) {
        const value = p.read();
        if (p.in === 'path') {
          if (value === undefined) throw new Error(`${p.name} is needed in the path`);
          path = path.replace(`{${p.name}}`, encodeURIComponent(String(value)));
        } else if (value !== undefined) query.set(p.name, typeof value === 'object' ? JSON.stringify(value) : String(value));
      }
      if (body.length === 1 && body[0].name === 'body' && !op.requestBody?.content?.['application/json']?.schema?.properties) payload = body[0].read();
      else if (body.length) payload = Object.fromEntries(body.map((f) => [f.name, f.read()]).filter(([, v]) => v !== undefined));
    } catch (err) {
      error.textContent = err.message;
      return;
    }
    const qs = query.toString();
    button.disabled = true;
    try {
      const answer = await api('/api/call', { method: op.method, path: qs ? `${path}?${qs}` : path, token: this.token.value || undefined, body: payload });
      this.renderAnswer(result, answer, `${op.method} ${qs ? `${path}?${qs}` : path}`);
    } catch (err) {
      error.textContent = err.message;
    } finally {
      button.disabled = false;
    }
  }

  renderAnswer(result, answer, line) {
    const token = answer.body && typeof answer.body === 'object' && typeof answer.body.token === 'string' ? answer.body.token : undefined;
    result.replaceChildren(...kids(
      h('div', { class: 'response-head' },
        h('span', { class: `status-code s${String(answer.status)[0]}xx`, id: 'response-status' }, answer.status),
        h('code', {}, line), h('span', { class: 'muted' }, ms(answer.durationMs)),
        token ? h('button', { class: 'button', id: 'use-token', onclick: () => { this.token.value = token; localStorage.setItem(TOKEN_KEY, token); } }, 'Use this token') : null),
      Object.keys(answer.headers).length ? h('dl', { class: 'facts small' }, Object.entries(answer.headers).map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, v))])) : null,
      answer.body === '' ? empty('(no body)') : h('pre', { class: 'json', id: 'response-body' }, pretty(answer.body)),
    ));
  }
}
