// The dashboard's client: keeps the server-rendered page current from the live stream
// (/ui/api/live), draws the last hour with uPlot, browses events and sends the actions. Text from
// events (headers, bodies, errors) only ever goes into textContent, never into HTML.

const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
const $ = (selector, root = document) => root.querySelector(selector);

/** An element with attributes and children (strings become text nodes). */
function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (key === 'class') el.className = value;
    else if (key.startsWith('on')) el.addEventListener(key.slice(2), value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  for (const child of children.flat()) if (child !== undefined && child !== null) el.append(child);
  return el;
}

function notice(text, isError = false) {
  const el = $('#notice');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

const number = (n) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
const rate = (n) => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')}/s`;
function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
const clockTime = (ms) => new Date(ms).toLocaleTimeString('en-GB');
/** Local time as 2026-12-01 15:04:05: unambiguous whatever the browser's locale. */
function stamp(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clockTime(ms)}`;
}
/** The top of a chart's scale: 1, 2 or 5 × a power of ten, so that the axis labels its top line. */
function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= max);
}

/** A state-changing request: JSON, with the session's CSRF token. */
async function post(url) {
  const res = await fetch(url, {
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-csrf-token': csrf },
    body: '{}',
  });
  const answer = await res.json().catch(() => ({}));
  if (res.status === 401) location.reload();
  if (!res.ok) throw new Error(answer.error?.message ?? `HTTP ${res.status}`);
  return answer;
}

// ---- Destinations ----------------------------------------------------------------------------

const cards = new Map();

function cardOf(name) {
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
  field('out').textContent = rate(d.out_per_second);
  const pace = d.pace.rate === null ? 'unlimited' : `${rate(d.pace.rate)}`;
  field('pace').textContent = `${pace} × ${d.pace.concurrency}`;
  field('pace').title = `Effective pace: ${pace}, at most ${d.pace.concurrency} at once`;
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

// ---- Live stream -----------------------------------------------------------------------------

function connect() {
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

// ---- Events ----------------------------------------------------------------------------------

let cursors = [undefined];
let selected;

function query(cursor) {
  const form = new FormData($('#filters'));
  const params = new URLSearchParams();
  for (const [key, value] of form) {
    if (value === '') continue;
    // datetime-local is local time without a zone: the API wants an instant.
    params.set(key, key === 'since' || key === 'until' ? new Date(value).toISOString() : value);
  }
  if (cursor) params.set('cursor', cursor);
  return params;
}

async function loadEvents(page = 0) {
  const res = await fetch(`/ui/api/events?${query(cursors[page])}`);
  const answer = await res.json();
  if (res.status === 401) return location.reload();
  if (!res.ok) return notice(answer.error?.message ?? `HTTP ${res.status}`, true);
  cursors = cursors.slice(0, page + 1);
  if (answer.next_cursor) cursors.push(answer.next_cursor);
  $('#next-page').disabled = !answer.next_cursor;
  $('#next-page').onclick = () => loadEvents(page + 1);
  $('#first-page').disabled = page === 0;
  const rows = answer.events.map((e) =>
    h(
      'tr',
      { 'data-id': e.id, class: e.id === selected ? 'selected' : undefined },
      h('td', { class: 'mono' }, stamp(Date.parse(e.received_at))),
      h('td', {}, e.source),
      h(
        'td',
        {},
        e.deliveries.map((d) =>
          h('span', { class: `pill ${d.status}`, title: d.last_error ?? '' }, `${d.destination}: ${d.status}`),
        ),
      ),
      h('td', { class: 'mono' }, `${number(e.body_size)} B`),
      h('td', {}, h('button', { type: 'button', onclick: () => inspect(e.id) }, 'Inspect')),
    ),
  );
  $('#events').replaceChildren(
    ...(rows.length ? rows : [h('tr', {}, h('td', { colspan: 5, class: 'hint' }, 'No event matches.'))]),
  );
}

// ---- Inspector -------------------------------------------------------------------------------

async function inspect(id) {
  selected = id;
  for (const row of document.querySelectorAll('#events tr')) row.classList.toggle('selected', row.dataset.id === id);
  const res = await fetch(`/ui/api/events/${encodeURIComponent(id)}`);
  const e = await res.json();
  if (!res.ok) return notice(e.error?.message ?? `HTTP ${res.status}`, true);
  const finished = e.deliveries.some((d) => d.status === 'dead' || d.status === 'delivered');
  const box = $('#inspector');
  box.replaceChildren(
    h(
      'dl',
      {},
      h('dt', {}, 'ID'),
      h('dd', { class: 'mono' }, e.id),
      h('dt', {}, 'Received'),
      h('dd', {}, stamp(Date.parse(e.received_at))),
      h('dt', {}, 'Request'),
      h('dd', { class: 'mono' }, `${e.method} ${e.path}${e.query ? `?${e.query}` : ''}`),
      h('dt', {}, 'From'),
      h('dd', {}, `${e.source}${e.remote_addr ? ` (${e.remote_addr})` : ''}`),
    ),
    h(
      'p',
      {},
      h(
        'button',
        { type: 'button', disabled: !finished, onclick: (ev) => replayEvent(e.id, ev.currentTarget) },
        'Replay',
      ),
    ),
    h('h3', {}, 'Headers'),
    h('pre', {}, e.headers.map(([k, v]) => `${k}: ${v}`).join('\n')),
    h('h3', {}, `Body (${e.body_view.kind}, ${number(e.body_size)} bytes${e.body_view.truncated ? ', cut' : ''})`),
    h('pre', { 'data-body': e.body_view.kind }, e.body_view.text || '(empty)'),
    ...e.deliveries.flatMap((d) => [
      h('h3', {}, `To ${d.destination}: ${d.status}, ${d.attempts} attempt${d.attempts === 1 ? '' : 's'}`),
      h(
        'ol',
        { class: 'attempts' },
        d.attempt_log.map((a) =>
          h(
            'li',
            { class: a.status !== null && a.status < 300 ? 'ok' : 'bad' },
            `#${a.attempt} ${new Date(a.started_at).toLocaleTimeString('en-GB')} · ${a.status ?? 'no answer'} · ${Math.round(a.duration_ms)} ms`,
            a.error ? ` · ${a.error}` : '',
            a.response_view?.text ? h('pre', {}, a.response_view.text) : '',
          ),
        ),
      ),
    ]),
  );
  box.focus();
}

async function replayEvent(id, button) {
  button.disabled = true;
  try {
    const answer = await post(`/ui/api/events/${encodeURIComponent(id)}/replay`);
    notice(`Event ${id}: ${answer.count} deliver${answer.count === 1 ? 'y' : 'ies'} replayed`);
    setTimeout(() => inspect(id), 1500);
  } catch (error) {
    notice(`Event ${id}: ${error.message}`, true);
    button.disabled = false;
  }
}

// ---- Start -----------------------------------------------------------------------------------

$('#filters').addEventListener('submit', (event) => {
  event.preventDefault();
  cursors = [undefined];
  loadEvents(0);
});
$('#first-page').addEventListener('click', () => loadEvents(0));
for (const el of document.querySelectorAll('.destination')) cardOf(el.dataset.name);
connect();
loadEvents(0);
