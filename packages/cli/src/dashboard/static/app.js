// The dashboard page: tabs, the app's health in the header, and one Server-Sent Events
// stream that tells each view when its data changed.
import { api, assignColours, h } from './dom.js';
import { TopologyView } from './topology-view.js';
import { TracesView } from './traces-view.js';
import { EventsView } from './events-view.js';
import { SagasView } from './sagas-view.js';
import { ExplorerView } from './explorer-view.js';

const app = await api('/api/app');
document.getElementById('app-name').textContent = app.app;
document.title = `${app.app} · Carotene dashboard`;
assignColours(app.topology.nodes.map((n) => n.id));
if (app.sagas) document.querySelector('[data-tab="sagas"]').hidden = false;

const views = {
  topology: new TopologyView(document.getElementById('view-topology'), app),
  traces: new TracesView(document.getElementById('view-traces')),
  events: new EventsView(document.getElementById('view-events')),
  sagas: new SagasView(document.getElementById('view-sagas')),
  api: new ExplorerView(document.getElementById('view-api'), app),
};
let current;

function route() {
  const [tab, ...rest] = (location.hash.slice(1) || 'topology').split('/');
  const name = views[tab] && !(tab === 'sagas' && !app.sagas) ? tab : 'topology';
  for (const [key, view] of Object.entries(views)) view.root.hidden = key !== name;
  for (const a of document.querySelectorAll('#tabs a')) a.classList.toggle('active', a.dataset.tab === name);
  current = name;
  views[name].show(rest.map(decodeURIComponent));
}
window.addEventListener('hashchange', route);

function showHealth(report) {
  const badge = document.getElementById('app-health');
  badge.dataset.health = report.health;
  badge.querySelector('.label').textContent = `${app.app} is ${report.health}`;
  views.topology.health(report);
}

// changes arrive over one stream; a view that is not shown refreshes when it is shown again
const stream = new EventSource('/api/stream');
stream.addEventListener('health', (e) => showHealth(JSON.parse(e.data)));
for (const topic of ['traces', 'events', 'sagas']) {
  stream.addEventListener(topic, () => {
    views[topic].stale = true;
    if (current === topic) views[topic].refresh();
  });
}
stream.addEventListener('open', () => document.body.classList.remove('offline'));
stream.addEventListener('error', () => {
  document.body.classList.add('offline');
  const badge = document.getElementById('app-health');
  badge.dataset.health = 'unknown';
  badge.querySelector('.label').textContent = 'dashboard unreachable';
});

showHealth(await api('/api/health'));
route();
document.body.append(h('div', { class: 'offline-banner' }, 'Lost the connection to carrot dev; retrying…'));
