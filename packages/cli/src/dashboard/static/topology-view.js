// Topology: the gateway and every service as boxes, the declared calls and event flows as
// arrows, each box coloured by its aggregated health. Click a box for its details.
import { colourOf, h, kids, s } from './dom.js';

const COL = 320;
const ROW = 125;
const W = 214;
const H = 70;
const PAD = 40;

export class TopologyView {
  constructor(root, app) {
    this.root = root;
    this.topology = app.topology;
    this.report = undefined;
    this.selected = undefined;
    this.stale = false;
    this.svg = undefined;
    this.side = h('aside', { class: 'panel side', id: 'node-details' });
    root.append(
      h('div', { class: 'view-head' }, h('h1', {}, 'Topology'), h('p', { class: 'muted' }, 'Services and the dependencies they declare, coloured by health (readiness of every instance, and error rates where metrics are served).')),
      h('div', { class: 'topology-layout' }, h('div', { class: 'panel canvas', id: 'topology-canvas' }), this.side),
      legend(),
    );
    this.draw();
  }

  show() {
    this.renderSide();
  }

  refresh() {}

  health(report) {
    this.report = report;
    for (const node of this.topology.nodes) {
      const g = this.root.querySelector(`[data-node="${CSS.escape(node.id)}"]`);
      if (!g) continue;
      const w = this.workload(node.id);
      g.dataset.health = w?.health ?? 'unknown';
      g.querySelector('.node-sub').textContent = subline(w);
    }
    this.renderSide();
  }

  workload(id) {
    return this.report?.workloads.find((w) => w.name === id);
  }

  /** Columns are centred on each other, so rows of neighbouring columns interleave. */
  position(node) {
    const rows = Math.max(...this.topology.nodes.map((n) => n.row)) + 1;
    const inColumn = this.topology.nodes.filter((n) => n.column === node.column).length;
    return { x: PAD + node.column * COL, y: PAD + ((rows - inColumn) * ROW) / 2 + node.row * ROW };
  }

  draw() {
    const nodes = new Map(this.topology.nodes.map((n) => [n.id, n]));
    const columns = Math.max(...this.topology.nodes.map((n) => n.column)) + 1;
    const rows = Math.max(...this.topology.nodes.map((n) => n.row)) + 1;
    const width = PAD * 2 + (columns - 1) * COL + W;
    const height = PAD * 2 + (rows - 1) * ROW + H + 10;
    const svg = s('svg', { viewBox: `0 0 ${width} ${height}`, width, height, class: 'topology', role: 'img', 'aria-label': 'service topology' },
      s('defs', {},
        marker('arrow-call', '#475569'),
        marker('arrow-event', '#a855f7'),
        marker('arrow-route', '#94a3b8'),
      ),
    );
    // the gateway's route edges first, so calls and events are drawn over them
    const order = { route: 0, call: 1, event: 2 };
    const sameSpan = new Map();
    for (const edge of [...this.topology.edges].sort((a, b) => order[a.kind] - order[b.kind])) {
      const from = nodes.get(edge.from);
      const to = nodes.get(edge.to);
      if (!from || !to) continue;
      const key = `${edge.from}>${edge.to}`;
      const nth = sameSpan.get(key) ?? 0;
      sameSpan.set(key, nth + 1);
      svg.append(this.edge(from, to, edge, nth));
    }
    for (const node of this.topology.nodes) svg.append(this.node(node));
    // labels last, over boxes and lines
    for (const label of svg.querySelectorAll('.edge-label')) svg.append(label);
    this.root.querySelector('#topology-canvas').append(svg);
    this.svg = svg;
  }

  edge(from, to, edge, nth) {
    const a = this.position(from);
    const b = this.position(to);
    const lane = { event: 14, call: -14, route: 0 }[edge.kind];
    let d;
    let label;
    if (edge.kind === 'route') {
      // the gateway's routes share one trunk beside it, like a bus, and enter each box from the left
      const x1 = a.x + W;
      const y1 = a.y + H / 2;
      const trunk = a.x + W + 28;
      const y2 = b.y + H / 2;
      const bend = Math.sign(y2 - y1) * Math.min(8, Math.abs(y2 - y1) / 2);
      d = bend === 0
        ? `M${x1},${y1} H${b.x - 4}`
        : `M${x1},${y1} H${trunk - 8} Q${trunk},${y1} ${trunk},${y1 + bend} V${y2 - bend} Q${trunk},${y2} ${trunk + 8},${y2} H${b.x - 4}`;
      return s('g', { class: 'edge edge-route', dataset: { from: edge.from, to: edge.to, kind: edge.kind } }, s('path', { d, 'marker-end': 'url(#arrow-route)' }));
    }
    if (to.column > from.column) {
      const x1 = a.x + W;
      const y1 = a.y + H / 2 + lane + nth * 6;
      const x2 = b.x;
      const y2 = b.y + H / 2 + lane;
      const mid = (x1 + x2) / 2;
      d = `M${x1},${y1} C${mid},${y1} ${mid},${y2} ${x2 - 4},${y2}`;
      // calls labelled nearer their caller, events nearer their subscriber: two edges of one pair stay apart
      const t = edge.kind === 'event' ? 0.62 : 0.35;
      const at = (p0, p1, p2, p3) => (1 - t) ** 3 * p0 + 3 * (1 - t) ** 2 * t * p1 + 3 * (1 - t) * t ** 2 * p2 + t ** 3 * p3;
      label = { x: at(x1, mid, mid, x2), y: at(y1, y1, y2, y2) + (edge.kind === 'event' ? 14 : -6) };
    } else {
      // same column or backwards: loop around below the boxes
      const x1 = a.x + W / 2 + 20;
      const y1 = a.y + H;
      const x2 = b.x + W / 2 - 20;
      const y2 = b.y + (b.y > a.y ? 0 : H);
      d = `M${x1},${y1} C${x1 + 60},${y1 + 50} ${x2 + 60},${y2 - 50} ${x2},${y2}`;
      label = { x: (x1 + x2) / 2 + 50, y: (y1 + y2) / 2 };
    }
    const g = s('g', { class: `edge edge-${edge.kind}`, dataset: { from: edge.from, to: edge.to, kind: edge.kind } },
      s('path', { d, 'marker-end': `url(#arrow-${edge.kind})` }),
    );
    // one line per event, so long lists stay between the columns
    const lines = edge.kind === 'event' ? edge.label.split(', ').map((l, i) => `${i === 0 ? '⚡ ' : ''}${l}`) : [edge.label];
    g.append(s('text', { x: label.x, y: label.y, 'text-anchor': 'middle', class: `edge-label label-${edge.kind}`, dataset: { from: edge.from, to: edge.to } },
      lines.map((line, i) => s('tspan', { x: label.x, dy: i === 0 ? 0 : 13 }, line))));
    return g;
  }

  node(node) {
    const { x, y } = this.position(node);
    const g = s('g', { class: `node node-${node.kind}`, tabindex: 0, dataset: { node: node.id, health: 'unknown' }, transform: `translate(${x},${y})`,
      onclick: () => this.select(node.id),
      onkeydown: (e) => e.key === 'Enter' && this.select(node.id),
    },
      s('rect', { class: 'node-box', width: W, height: H, rx: 12 }),
      s('rect', { class: 'node-stripe', width: 6, height: H - 20, x: 10, y: 10, rx: 3, fill: node.kind === 'gateway' ? '#64748b' : colourOf(node.id) }),
      s('circle', { class: 'node-dot', cx: W - 18, cy: 18, r: 6 }),
      s('text', { class: 'node-name', x: 26, y: 29 }, node.id),
      s('text', { class: 'node-sub', x: 26, y: 50 }, 'looking…'),
      node.label ? s('text', { class: 'node-tag node-label', x: 0, y: -6 }, node.label) : null,
      node.routes.length ? s('text', { class: 'node-tag', x: W, y: H + 14, 'text-anchor': 'end' }, `${node.routes.length} public route${node.routes.length === 1 ? '' : 's'}`) : null,
    );
    return g;
  }

  select(id) {
    this.selected = this.selected === id ? undefined : id;
    for (const g of this.root.querySelectorAll('.node')) g.classList.toggle('selected', g.dataset.node === this.selected);
    this.renderSide();
  }

  renderSide() {
    const side = this.side;
    side.replaceChildren();
    const report = this.report;
    if (!this.selected) {
      side.append(h('h2', {}, 'Health'));
      if (!report) return side.append(h('p', { class: 'muted' }, 'Looking at every instance…'));
      const list = h('ul', { class: 'health-list' });
      for (const w of report.workloads) {
        list.append(h('li', { dataset: { health: w.health }, onclick: () => this.select(w.name) },
          h('span', { class: 'dot' }), h('strong', {}, w.name), h('span', { class: 'muted' }, ` ${w.health}`),
          w.reasons.length ? h('div', { class: 'reason' }, w.reasons.join('; ')) : null));
      }
      side.append(list, h('p', { class: 'muted small' }, 'Click a box for its instances, routes and events.'));
      return;
    }
    const node = this.topology.nodes.find((n) => n.id === this.selected);
    const w = this.workload(node.id);
    const sample = report?.samples.find((x) => x.name === node.id);
    side.append(...kids(
      h('h2', {}, node.id, ' ', h('span', { class: 'pill', dataset: { health: w?.health ?? 'unknown' } }, w?.health ?? 'unknown')),
      w?.reasons.length ? h('p', { class: 'reason' }, w.reasons.join('; ')) : null,
      h('dl', { class: 'facts' },
        node.label ? [h('dt', {}, 'kind'), h('dd', {}, node.label)] : null,
        h('dt', {}, 'ready'), h('dd', {}, w ? `${w.ready}/${w.desired}` : '–'),
        h('dt', {}, 'requests'), h('dd', {}, w?.requestsPerSecond === undefined ? 'no metrics yet' : `${w.requestsPerSecond.toFixed(1)}/s`),
        h('dt', {}, 'errors'), h('dd', {}, w?.errorRate === undefined ? '–' : `${(w.errorRate * 100).toFixed(1)}%`),
      ),
      section('Instances', (sample?.instances ?? []).map((i) => h('li', { dataset: { health: i.ready ? 'healthy' : 'unhealthy' } }, h('span', { class: 'dot' }), h('code', {}, i.url), i.ready ? '' : ` ${i.detail ?? ''}`, i.metrics ? h('span', { class: 'tag' }, 'metrics') : null))),
      section('Public routes', node.routes.map((r) => h('li', {}, h('code', {}, r)))),
      section('Tables', node.stores.map((t) => h('li', {}, t))),
      section('Publishes', node.publishes.map((t) => h('li', {}, t))),
      section('Subscribes to', node.subscribes.map((t) => h('li', {}, t))),
    ));
  }
}

function section(title, items) {
  if (items.length === 0) return null;
  return [h('h3', {}, title), h('ul', { class: 'plain' }, items)];
}

function subline(w) {
  if (!w) return 'looking…';
  const parts = [`${w.ready}/${w.desired} ready`];
  if (w.requestsPerSecond !== undefined) parts.push(`${w.requestsPerSecond.toFixed(1)} req/s`);
  if (w.errorRate !== undefined) parts.push(`${w.errorRate === 0 ? 0 : (w.errorRate * 100).toFixed(w.errorRate >= 0.1 ? 0 : 1)}% errors`);
  return parts.join(' · ');
}

function marker(id, colour) {
  return s('marker', { id, viewBox: '0 0 10 10', refX: 8, refY: 5, markerWidth: 7, markerHeight: 7, orient: 'auto-start-reverse' }, s('path', { d: 'M0,0 L10,5 L0,10 z', fill: colour }));
}

function legend() {
  const item = (cls, text) => h('span', { class: `legend-item ${cls}` }, h('i'), text);
  return h('div', { class: 'legend' },
    item('lg-healthy', 'healthy'), item('lg-degraded', 'degraded'), item('lg-unhealthy', 'unhealthy'),
    item('lg-call', 'calls (declared integration)'), item('lg-event', 'events (publisher → subscriber)'), item('lg-route', 'public routes'),
  );
}
