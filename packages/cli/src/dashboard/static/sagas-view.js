// Sagas: instances of the app's sagas, newest first, and one instance's step history —
// every try of a step and of its compensation, in order.
import { api, clock, empty, h, kids, ms, pretty } from './dom.js';

export class SagasView {
  constructor(root) {
    this.root = root;
    this.stale = true;
    this.sagaId = undefined;
    this.list = h('div', { class: 'panel trace-list', id: 'saga-list' });
    this.detail = h('div', { class: 'panel', id: 'saga-detail' });
    root.append(
      h('div', { class: 'view-head' }, h('h1', {}, 'Sagas'), h('p', { class: 'muted' }, 'Instances kept by the orchestrating services, newest first. Click one for its steps.')),
      h('div', { class: 'traces-layout' }, this.list, this.detail),
    );
  }

  show([id]) {
    if (id !== this.sagaId) {
      this.sagaId = id;
      this.renderDetail();
    }
    if (this.stale) this.refresh();
  }

  async refresh() {
    this.stale = false;
    const { sagas } = await api('/api/sagas?limit=50');
    this.list.replaceChildren();
    if (sagas.length === 0) return this.list.append(empty('No saga has started yet.'));
    this.list.append(h('table', { class: 'table clickable' },
      h('thead', {}, h('tr', {}, h('th', {}, 'started'), h('th', {}, 'saga'), h('th', {}, 'status'), h('th', {}, 'now / why'))),
      h('tbody', {}, sagas.map((s) => h('tr', { class: s.id === this.sagaId ? 'selected' : '', dataset: { saga: s.id, status: s.status }, onclick: () => (location.hash = `#sagas/${encodeURIComponent(s.id)}`) },
        h('td', { class: 'muted nowrap' }, clock(s.startedAt)),
        h('td', {}, h('code', {}, s.saga), h('div', { class: 'muted small' }, s.id)),
        h('td', {}, status(s.status)),
        h('td', { class: 'small' }, s.failure ? h('span', { class: 'error-text' }, `${s.failure.step}: ${s.failure.code}`) : s.step ? `at ${s.step}` : h('span', { class: 'muted' }, s.endedAt ? ms(s.endedAt - s.startedAt) : '')),
      )))));
    if (this.sagaId) this.renderDetail();
  }

  async renderDetail() {
    if (!this.sagaId) return this.detail.replaceChildren(empty('Pick an instance on the left.'));
    let saga;
    try {
      saga = await api(`/api/sagas/${encodeURIComponent(this.sagaId)}`);
    } catch (err) {
      return this.detail.replaceChildren(empty(err.message));
    }
    this.detail.replaceChildren(...kids(
      h('h2', {}, h('code', {}, saga.saga), ' ', status(saga.status)),
      h('dl', { class: 'facts' },
        h('dt', {}, 'instance'), h('dd', {}, h('code', {}, saga.id)),
        h('dt', {}, 'orchestrator'), h('dd', {}, saga.service),
        h('dt', {}, 'started'), h('dd', {}, new Date(saga.startedAt).toLocaleString()),
        h('dt', {}, saga.endedAt ? 'took' : 'deadline'), h('dd', {}, saga.endedAt ? ms(saga.endedAt - saga.startedAt) : new Date(saga.deadline).toLocaleTimeString()),
        saga.step ? [h('dt', {}, 'next step'), h('dd', {}, saga.step)] : null,
        saga.failure ? [h('dt', {}, 'failed at'), h('dd', { class: 'bad' }, `${saga.failure.step}: ${saga.failure.code} — ${saga.failure.message}`)] : null,
        saga.leaseOwner ? [h('dt', {}, 'runner'), h('dd', {}, h('code', {}, saga.leaseOwner))] : null,
      ),
      h('details', { class: 'answers' }, h('summary', {}, 'Input'), h('pre', { class: 'json' }, pretty(saga.input))),
      h('h3', {}, 'Steps'),
      h('ol', { class: 'steps', id: 'saga-steps' }, saga.steps.map((t) => h('li', { class: `step st-line-${t.status}`, dataset: { step: t.step, phase: t.phase, status: t.status } },
        h('div', { class: 'step-head' },
          h('strong', {}, t.step), ' ',
          t.phase === 'compensate' ? h('span', { class: 'phase' }, 'compensate') : null,
          status(t.status),
          t.attempt > 1 ? h('span', { class: 'muted small' }, `try ${t.attempt}`) : null,
          h('span', { class: 'muted small right' }, t.endedAt ? ms(t.endedAt - t.startedAt) : 'running…')),
        t.error ? h('div', { class: 'error-text small' }, `${t.error.code}: ${t.error.message}`) : null,
        t.output !== undefined ? h('details', { class: 'step-output' }, h('summary', { class: 'muted small' }, 'output'), h('pre', { class: 'json small' }, pretty(t.output))) : null,
      ))),
    ));
  }
}

function status(value) {
  return h('span', { class: `status st-${String(value).toLowerCase()}` }, value);
}
