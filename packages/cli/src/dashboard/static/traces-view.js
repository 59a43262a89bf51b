// Traces: the newest traces the app's processes exported, and one trace as a waterfall —
// every span a bar on a shared time axis, nested under its parent, in its service's colour.
import { api, clock, colourOf, empty, h, ms, pretty } from './dom.js';

export class TracesView {
  constructor(root) {
    this.root = root;
    this.stale = true;
    this.traceId = undefined;
    this.list = h('div', { class: 'panel trace-list', id: 'trace-list' });
    this.detail = h('div', { class: 'panel waterfall-panel', id: 'waterfall' });
    root.append(
      h('div', { class: 'view-head' }, h('h1', {}, 'Traces'), h('p', { class: 'muted' }, 'Received over OTLP/HTTP at /v1/traces; the newest first. Click one for its waterfall.')),
      h('div', { class: 'traces-layout' }, this.list, this.detail),
    );
  }

  show([traceId]) {
    if (traceId !== this.traceId) {
      this.traceId = traceId;
      this.renderTrace();
    }
    if (this.stale) this.refresh();
  }

  async refresh() {
    this.stale = false;
    const { traces } = await api('/api/traces?limit=100');
    this.renderList(traces);
    // a trace still filling up (late exports of other services) is drawn again
    if (this.traceId && traces.some((t) => t.traceId === this.traceId)) this.renderTrace();
  }

  renderList(traces) {
    this.list.replaceChildren();
    if (traces.length === 0) {
      this.list.append(empty('No traces yet. Call the API (the explorer tab does) and they appear here.'));
      return;
    }
    const table = h('table', { class: 'table clickable' },
      h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'root'), h('th', {}, 'services'), h('th', { class: 'num' }, 'duration'), h('th', { class: 'num' }, 'spans'))),
      h('tbody', {}, traces.map((t) =>
        h('tr', { class: t.traceId === this.traceId ? 'selected' : '', dataset: { trace: t.traceId, root: t.root }, onclick: () => (location.hash = `#traces/${t.traceId}`) },
          h('td', { class: 'muted nowrap' }, clock(t.startMs)),
          h('td', {}, h('span', { class: 'svc-chip', style: `--c:${colourOf(t.rootService)}` }, t.rootService), ' ', h('span', { class: 'root-name' }, t.root),
            t.errors ? h('span', { class: 'error-badge', title: `${t.errors} span(s) with errors` }, `${t.errors} error${t.errors === 1 ? '' : 's'}`) : null),
          h('td', {}, t.services.map((svc) => h('span', { class: 'svc-dot', title: svc, style: `--c:${colourOf(svc)}` }))),
          h('td', { class: 'num nowrap' }, ms(t.durationMs)),
          h('td', { class: 'num' }, t.spans),
        ))),
    );
    this.list.append(table);
  }

  async renderTrace() {
    const panel = this.detail;
    for (const tr of this.list.querySelectorAll('tr[data-trace]')) tr.classList.toggle('selected', tr.dataset.trace === this.traceId);
    if (!this.traceId) {
      panel.replaceChildren(empty('Pick a trace on the left.'));
      return;
    }
    let trace;
    try {
      trace = await api(`/api/traces/${encodeURIComponent(this.traceId)}`);
    } catch (err) {
      panel.replaceChildren(empty(err.message));
      return;
    }
    const selected = panel.querySelector('.span-row.selected')?.dataset.span;
    panel.replaceChildren(waterfall(trace, selected));
  }
}

/** Spans in tree order: each followed by its children, by start time; orphans are roots. */
function ordered(spans) {
  const ids = new Set(spans.map((s) => s.spanId));
  const children = new Map();
  for (const span of spans) {
    const parent = span.parentSpanId && ids.has(span.parentSpanId) ? span.parentSpanId : '';
    children.set(parent, [...(children.get(parent) ?? []), span]);
  }
  const out = [];
  const walk = (parent, depth) => {
    for (const span of (children.get(parent) ?? []).sort((a, b) => a.startMs - b.startMs)) {
      out.push({ span, depth });
      walk(span.spanId, depth + 1);
    }
  };
  walk('', 0);
  return out;
}

function waterfall(trace, selectedSpan) {
  const { summary, spans } = trace;
  const start = summary.startMs;
  const total = Math.max(summary.durationMs, 0.001);
  const rows = ordered(spans);
  const ticks = [0, 0.25, 0.5, 0.75, 1];
  const details = h('div', { class: 'span-details', id: 'span-details' });
  const body = h('div', { class: 'waterfall-rows' });
  for (const { span, depth } of rows) {
    const left = ((span.startMs - start) / total) * 100;
    const width = Math.max(((span.endMs - span.startMs) / total) * 100, 0.3);
    const row = h('div', { class: `span-row${span.error ? ' error' : ''}${span.spanId === selectedSpan ? ' selected' : ''}`, dataset: { span: span.spanId, service: span.service, name: span.name },
      onclick: () => {
        for (const r of body.querySelectorAll('.span-row')) r.classList.toggle('selected', r === row);
        details.replaceChildren(spanDetails(span));
      } },
      h('div', { class: 'span-label', style: `padding-left:${8 + depth * 16}px` },
        h('span', { class: 'svc-chip', style: `--c:${colourOf(span.service)}` }, span.service), ' ', h('span', { class: 'span-name', title: span.name }, span.name)),
      h('div', { class: 'span-track' },
        ticks.slice(1, -1).map((t) => h('i', { class: 'grid', style: `left:${t * 100}%` })),
        h('div', { class: 'span-bar', style: `left:${left}%;width:${width}%;--c:${colourOf(span.service)}` }),
        h('span', { class: 'span-ms', style: left + width > 80 ? `right:${100 - left + 0.5}%` : `left:${left + width + 0.5}%` }, ms(span.endMs - span.startMs))),
    );
    body.append(row);
  }
  const chosen = spans.find((s) => s.spanId === selectedSpan);
  details.append(chosen ? spanDetails(chosen) : h('p', { class: 'muted small' }, 'Click a span for its attributes.'));
  return h('div', { class: 'waterfall' },
    h('div', { class: 'waterfall-head' },
      h('h2', {}, summary.root),
      h('div', { class: 'muted small' }, `trace ${summary.traceId} · ${ms(summary.durationMs)} · ${summary.spans} spans · ${summary.services.length} services`,
        summary.errors ? h('span', { class: 'error-badge' }, `${summary.errors} error${summary.errors === 1 ? '' : 's'}`) : null,
        trace.dropped ? ` · ${trace.dropped} spans dropped` : ''),
    ),
    h('div', { class: 'span-row axis' }, h('div', { class: 'span-label muted small' }, 'span'),
      h('div', { class: 'span-track' }, ticks.map((t) => h('span', { class: 'tick', style: `left:${t * 100}%` }, ms(total * t))))),
    body,
    details,
  );
}

function spanDetails(span) {
  const attrs = Object.entries(span.attributes);
  return h('div', {},
    h('h3', {}, span.name),
    h('dl', { class: 'facts' },
      h('dt', {}, 'service'), h('dd', {}, span.service),
      h('dt', {}, 'kind'), h('dd', {}, span.kind),
      h('dt', {}, 'duration'), h('dd', {}, ms(span.endMs - span.startMs)),
      h('dt', {}, 'status'), h('dd', { class: span.error ? 'bad' : '' }, span.error ? `error${span.statusMessage ? `: ${span.statusMessage}` : ''}` : 'ok'),
      h('dt', {}, 'span id'), h('dd', {}, h('code', {}, span.spanId)),
      attrs.map(([k, v]) => [h('dt', {}, k), h('dd', {}, h('code', {}, typeof v === 'object' ? pretty(v) : String(v)))]),
    ),
    span.events.length ? [h('h3', {}, 'Events'), h('ul', { class: 'plain' }, span.events.map((e) => h('li', {}, h('strong', {}, e.name), ' ', h('code', {}, pretty(e.attributes)))))] : null,
  );
}
