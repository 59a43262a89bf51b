// Events: dead letters with a Replay button (the same replay as `carrot events dlq replay`),
// and the newest events of every publisher with how far each subscriber got.
import { ago, api, clock, colourOf, empty, h, pretty } from './dom.js';

const STATES = { handled: 'handled', pending: 'pending', dead: 'dead', delivering: 'delivering', 'in transit': 'in transit' };

export class EventsView {
  constructor(root) {
    this.root = root;
    this.stale = true;
    this.open = new Set();
    this.dead = h('div', { class: 'panel', id: 'dead-letters' });
    this.recent = h('div', { class: 'panel', id: 'recent-events' });
    root.append(
      h('div', { class: 'view-head' }, h('h1', {}, 'Events'), h('p', { class: 'muted' }, "From the services' own outbox, inbox and dead-letter tables.")),
      this.dead,
      this.recent,
    );
  }

  show() {
    if (this.stale) this.refresh();
  }

  async refresh() {
    this.stale = false;
    const { events, deadLetters } = await api('/api/events?limit=50');
    this.renderDead(deadLetters);
    this.renderRecent(events);
  }

  renderDead(dead) {
    this.dead.replaceChildren(h('h2', {}, 'Dead letters ', h('span', { class: `count${dead.length ? ' bad' : ''}` }, dead.length)));
    if (dead.length === 0) {
      this.dead.append(empty('None: every subscriber handled what it received.'));
      return;
    }
    this.dead.append(h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'subscriber'), h('th', {}, 'event'), h('th', {}, 'key'), h('th', { class: 'num' }, 'attempts'), h('th', {}, 'error'), h('th', {}, 'failed'), h('th', {}))),
      h('tbody', {}, dead.map((d) => h('tr', { dataset: { deadLetter: d.id, service: d.service } },
        h('td', {}, h('span', { class: 'svc-chip', style: `--c:${colourOf(d.service)}` }, d.service)),
        h('td', {}, h('code', {}, d.type), h('div', { class: 'muted small' }, d.id, d.traceId ? [' · ', traceLink(d.traceId)] : null)),
        h('td', {}, h('code', {}, d.key)),
        h('td', { class: 'num' }, d.attempts),
        h('td', { class: 'error-text' }, d.error),
        h('td', { class: 'muted nowrap', title: new Date(d.failedAt).toISOString() }, ago(d.failedAt)),
        h('td', {}, h('button', { class: 'button primary', dataset: { replay: d.id }, onclick: (e) => this.replay(e.currentTarget, d) }, 'Replay')),
      ))),
    ));
  }

  async replay(button, d) {
    button.disabled = true;
    button.textContent = 'Replaying…';
    try {
      await api(`/api/dead-letters/${encodeURIComponent(d.service)}/${encodeURIComponent(d.id)}/replay`, {});
      button.textContent = 'Replayed';
      await this.refresh();
    } catch (err) {
      button.disabled = false;
      button.textContent = 'Replay';
      button.after(h('div', { class: 'error-text small' }, err.message));
    }
  }

  renderRecent(events) {
    this.recent.replaceChildren(h('h2', {}, 'Recent events'));
    if (events.length === 0) {
      this.recent.append(empty('No events published yet.'));
      return;
    }
    const body = h('tbody');
    for (const e of events) {
      const row = h('tr', { class: 'clickable-row', dataset: { event: e.id, type: e.type }, onclick: () => {
        if (this.open.has(e.id)) this.open.delete(e.id);
        else this.open.add(e.id);
        this.renderRecent(events);
      } },
        h('td', { class: 'muted nowrap' }, clock(e.time)),
        h('td', {}, h('code', {}, e.type)),
        h('td', {}, h('code', {}, e.key)),
        h('td', {}, h('span', { class: 'svc-chip', style: `--c:${colourOf(e.publisher)}` }, e.publisher)),
        h('td', { onclick: (ev) => ev.stopPropagation() }, e.traceId ? traceLink(e.traceId) : null),
        h('td', {}, e.deliveries.map((d) => h('span', { class: `delivery st-${d.state.replace(' ', '-')}`, title: d.error ?? `${d.state}${d.attempts ? `, ${d.attempts} attempt(s)` : ''}`, dataset: { subscriber: d.service, state: d.state } },
          d.service, ' ', h('b', {}, STATES[d.state] ?? d.state), d.attempts > 1 ? ` ×${d.attempts}` : ''))),
      );
      body.append(row);
      if (this.open.has(e.id)) body.append(h('tr', { class: 'expanded' }, h('td', { colspan: 6 }, h('pre', { class: 'json' }, pretty(e.data)), h('div', { class: 'muted small' }, `id ${e.id}`))));
    }
    this.recent.append(h('table', { class: 'table' },
      h('thead', {}, h('tr', {}, h('th', {}, 'time'), h('th', {}, 'event'), h('th', {}, 'key'), h('th', {}, 'publisher'), h('th', {}, 'trace'), h('th', {}, 'subscribers'))),
      body));
  }
}

/** A link to the trace an event was published in (the dashboard has it when the publisher exported it). */
function traceLink(traceId) {
  return h('a', { href: `#traces/${traceId}`, class: 'trace-link', title: `trace ${traceId}` }, `${traceId.slice(0, 8)}…`);
}
