// The dashboard's live part: keeps the server-rendered destinations current from the live stream
// (/ui/api/live), draws the last hour with uPlot, sends pause/resume/replay and lists the activity.
import { $, clockTime, duration, h, niceMax, notice, number, post, rate } from './common.js';

// ---- Destinations ----------------------------------------------------------------------------

const cards = new Map();

export function cardOf(name) {
  let card = cards.get(name);
  if (card) return card;
  const el = document.querySelector(`.destination[data-name="${CSS.escape(name)}"]`);
  if (!el) return undefined;
  card = { el, plots: {} };
  cards.set(name, card);
  for (const button of el.querySelectorAll('button[data-action]')) {
    button.addEventListener('click', () => destinationAction(name, button.dataset.action, button));
  }
  return card;
}

async function destinationAction(name, action, button) {
  button.disabled = true;
  try {
    const answer = await post(`/ui/api/destinations/${encodeURIComponent(name)}/${action}`);
    const done = {
      pause: 'paused',
      resume: 'resumed',
      'replay-dead': `replaying ${number(answer.count ?? 0)} dead deliveries`,
    };
    notice(`${name}: ${done[action]}`);
  } catch (error) {
    notice(`${name}: ${error.message}`, true);
    button.disabled = false;
  }
}

function showDestination(d, replay) {
  const card = cardOf(d.name);
  if (!card) return;
  const field = (name) => card.el.querySelector(`[data-field="${name}"]`);
  const state = field('state');
  state.textContent = d.view_state;
  state.className = `state state-${d.view_state}`;
  field('reason').textContent = d.held_reason ?? '';
  field('backlog').textContent = number(d.backlog);
  field('oldest').textContent = duration(d.oldest_pending_age_seconds);
  // While held or paused nothing is sent: an ETA from the last minute's rate would mislead.
  field('eta').textContent =
    d.backlog === 0
      ? 'drained'
      : d.view_state === 'running'
        ? duration(d.eta_seconds)
        : `after ${d.view_state === 'held' ? 'the hold' : 'resume'}`;
  field('in').textContent = rate(d.in_per_second);
  // Each node counts what it takes in; what it sends, the page sums over the nodes.
  field('in').title = d.pace?.nodes > 1 ? 'Taken in by this node (each node counts its own)' : '';
  field('out').textContent = rate(d.out_per_second);
  // The pace its pacer allows now (learned under the ceilings when adaptive), and what last moved it.
  const pace = !d.pace ? '–' : d.pace.rate_per_second === null ? 'unlimited' : rate(d.pace.rate_per_second);
  const signal = d.pace?.last_signal ? `; last moved by ${d.pace.last_signal} at ${d.pace.last_signal_at}` : '';
  const nodes = d.pace?.nodes > 1 ? ` on ${d.pace.nodes} nodes` : '';
  field('pace').textContent = d.pace ? `${pace} × ${d.pace.concurrency}` : pace;
  field('pace').title = d.pace
    ? `${d.pace.adaptive ? 'Adaptive' : 'Fixed'} pace: ${pace}, at most ${d.pace.concurrency} at once${nodes}${signal}`
    : '';
  field('dead').textContent = number(d.dead);
  field('replay').textContent = replay
    ? replay.left === 0
      ? `Replay of ${number(replay.total)} dead deliveries: done`
      : `Replay of ${number(replay.total)} dead deliveries: at most ${number(replay.left)} left`
    : '';
  card.el.querySelector('[data-action="pause"]').disabled = d.view_state === 'paused';
  card.el.querySelector('[data-action="resume"]').disabled = d.view_state === 'running';
  card.el.querySelector('[data-action="replay-dead"]').disabled = d.dead === 0;
}

const SERIES = { backlog: '#0b5cad', ingested: '#6a3fb5', delivered: '#11663a', refused: '#a3171b' };

function drawHistory(history) {
  for (const [name, samples] of Object.entries(history)) {
    const card = cardOf(name);
    if (!card || typeof uPlot === 'undefined') continue;
    const xs = samples.map((s) => s.at / 1000);
    for (const figure of card.el.querySelectorAll('.chart')) {
      const series = figure.dataset.series;
      const data = [xs, samples.map((s) => s[series])];
      const plot = card.plots[series];
      if (plot) {
        plot.setData(data);
        continue;
      }
      const box = figure.querySelector('.plot');
      card.plots[series] = new uPlot(
        {
          width: Math.max(120, box.clientWidth),
          height: 72,
          legend: { show: false },
          cursor: { show: false },
          axes: [{ show: false }, { size: 36, font: '10px system-ui', stroke: '#4f5a66', ticks: { show: false } }],
          scales: { y: { range: (_u, _min, max) => [0, niceMax(max)] } },
          series: [{}, { stroke: SERIES[series], width: 1.5, fill: `${SERIES[series]}22` }],
        },
        data,
        box,
      );
    }
  }
}

window.addEventListener('resize', () => {
  for (const card of cards.values())
    for (const [series, plot] of Object.entries(card.plots)) {
      const box = card.el.querySelector(`.chart[data-series="${series}"] .plot`);
      plot.setSize({ width: Math.max(120, box.clientWidth), height: 72 });
    }
});

// ---- Activity --------------------------------------------------------------------------------

const ACTIONS = {
  pause: 'paused',
  resume: 'resumed',
  replay: 'replayed',
  delete: 'deleted',
  'lift-hold': 'lifted the hold of',
  purge: 'purged',
};

function showActivity(list) {
  const ol = $('#activity');
  const key = JSON.stringify(list);
  if (ol.dataset.key === key) return;
  ol.dataset.key = key;
  ol.replaceChildren(
    ...(list.length === 0
      ? [h('li', { class: 'hint' }, 'No action yet.')]
      : list.map((a) =>
          h(
            'li',
            {},
            h('time', { datetime: new Date(a.at).toISOString() }, clockTime(a.at)),
            `${ACTIONS[a.action] ?? a.action} ${a.target}`,
            a.count !== undefined ? ` (${number(a.count)})` : '',
            ' ',
            h('span', { class: 'via' }, `via ${a.via === 'ui' ? 'dashboard' : 'API'}`),
          ),
        )),
  );
}

// ---- Nodes (several on one journal) ---------------------------------------------------------------

function showNodes(nodes, at) {
  const ol = $('#nodes');
  if (!ol || !nodes) return;
  ol.replaceChildren(
    ...nodes.map((n) =>
      h(
        'li',
        { class: n.silent ? 'silent' : '' },
        h('strong', {}, n.label),
        n.self ? ' (this one)' : '',
        ` · ${n.version} · up ${duration(Math.floor((at - n.started_at) / 1000))}`,
        n.silent ? ` · silent for ${duration(Math.round((at - n.seen_at) / 1000))}` : '',
        h(
          'span',
          { class: 'draining' },
          n.draining.length === 0
            ? 'idle'
            : n.draining
                .map((d) => `${d.destination}: ${number(d.in_flight)} in flight, ${rate(d.per_second)}`)
                .join(' · '),
        ),
      ),
    ),
  );
}

// ---- Live stream -----------------------------------------------------------------------------

export function connect() {
  const live = $('#live');
  const source = new EventSource('/ui/api/live');
  source.addEventListener('open', () => {
    live.textContent = 'live';
    live.classList.add('on');
  });
  source.addEventListener('live', (message) => {
    const snapshot = JSON.parse(message.data);
    const replays = new Map(snapshot.replays.map((r) => [r.destination, r]));
    for (const d of snapshot.destinations) showDestination(d, replays.get(d.name));
    showActivity(snapshot.activity);
    showNodes(snapshot.nodes, snapshot.at);
    live.textContent = `live · ${clockTime(snapshot.at)}`;
  });
  source.addEventListener('history', (message) => drawHistory(JSON.parse(message.data)));
  source.addEventListener('error', async () => {
    live.textContent = 'reconnecting…';
    live.classList.remove('on');
    // Signed out or expired: EventSource keeps retrying a 401 forever; the sign-in page is the answer.
    const res = await fetch('/ui/api/events?limit=1').catch(() => undefined);
    if (res?.status === 401) location.reload();
  });
}
