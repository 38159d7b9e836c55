// The event browser (the same filters as `sluice events list`) and the inspector, then the start
// of the page: the module the page loads, which imports the others.
import { $, h, notice, number, post, stamp } from './common.js';
import { cardOf, connect } from './dashboard.js';

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
