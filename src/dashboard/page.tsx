/**
 * The dashboard's HTML, rendered on the server with hono/jsx: the sign-in form, and the page
 * filled with a first snapshot (so that it shows data before the live stream's first message).
 * The client modules (static/*.js) then keep it current. No inline script or style: the
 * Content-Security-Policy allows only this origin's files.
 */
import type { Child } from 'hono/jsx';
import type { Assets } from './assets.js';
import type { DestinationView, LiveSnapshot } from './live.js';

function Layout(props: { assets: Assets; title: string; csrf?: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <title>{props.title}</title>
        {/* No icon to fetch: /favicon.ico is outside /ui, and the API would answer 401. */}
        <link rel="icon" href="data:," />
        {props.csrf && <meta name="csrf-token" content={props.csrf} />}
        <link rel="stylesheet" href={props.assets.url('uplot.css')} />
        <link rel="stylesheet" href={props.assets.url('dashboard.css')} />
      </head>
      <body>{props.children}</body>
    </html>
  );
}

export function SignInPage(props: { assets: Assets; error?: string | undefined }) {
  return (
    <Layout assets={props.assets} title="Sign in · Sluice">
      <main class="signin">
        <h1>Sluice</h1>
        <form method="post" action="/ui/login">
          <label for="token">Admin token</label>
          <input id="token" name="token" type="password" autocomplete="current-password" required autofocus />
          <p class="hint">
            The <code>admin.token</code> of the config, or the file <code>admin-token</code> beside the journal.
          </p>
          {props.error && (
            <p class="error" role="alert">
              {props.error}
            </p>
          )}
          <button type="submit">Sign in</button>
        </form>
      </main>
    </Layout>
  );
}

export function DashboardPage(props: {
  assets: Assets;
  csrf: string;
  snapshot: LiveSnapshot;
  sources: string[];
  sampleSeconds: number;
}) {
  const { snapshot } = props;
  return (
    <Layout assets={props.assets} title="Sluice" csrf={props.csrf}>
      <header class="top">
        <h1>Sluice</h1>
        <span id="live" class="live" role="status">
          connecting…
        </span>
        <p id="notice" class="notice" role="status" aria-live="polite"></p>
        <form method="post" action="/ui/logout">
          <input type="hidden" name="csrf" value={props.csrf} />
          <button type="submit" class="quiet">
            Sign out
          </button>
        </form>
      </header>
      <main class="layout">
        <div class="main-column">
          <section aria-labelledby="destinations-title">
            <h2 id="destinations-title">
              Destinations <span class="hint">· charts: the last hour, a point every {props.sampleSeconds} s</span>
            </h2>
            <div id="destinations">
              {snapshot.destinations.map((d) => (
                <DestinationCard d={d} />
              ))}
            </div>
          </section>
          <EventsBrowser sources={props.sources} destinations={snapshot.destinations.map((d) => d.name)} />
        </div>
        <aside class="side-column">
          <section aria-labelledby="inspector-title">
            <h2 id="inspector-title">Event</h2>
            <div id="inspector" tabindex={-1}>
              <p class="hint">Choose an event in the list to see its headers, body and attempts.</p>
            </div>
          </section>
          {snapshot.nodes && (
            <section aria-labelledby="nodes-title">
              <h2 id="nodes-title">Nodes</h2>
              <ol id="nodes" class="nodes"></ol>
            </section>
          )}
          <section aria-labelledby="activity-title">
            <h2 id="activity-title">Activity</h2>
            <ol id="activity" class="activity"></ol>
          </section>
        </aside>
      </main>
      <script src={props.assets.url('uplot.js')} defer></script>
      {/* The entry module imports common.js and dashboard.js; modules run after uPlot's deferred script. */}
      <script type="module" src={props.assets.url('events.js')}></script>
    </Layout>
  );
}

const STATS: [field: string, label: string][] = [
  ['backlog', 'Backlog'],
  ['oldest', 'Oldest'],
  ['eta', 'ETA'],
  ['in', 'In'],
  ['out', 'Out'],
  ['pace', 'Pace'],
  ['dead', 'Dead'],
];

const CHARTS: [series: string, label: string][] = [
  ['backlog', 'Backlog'],
  ['ingested', 'Ingest /s'],
  ['delivered', 'Delivery /s'],
  ['refused', 'Refusals /s'],
];

/** One destination; the client fills in the values from the live stream. */
function DestinationCard(props: { d: DestinationView }) {
  const { d } = props;
  return (
    <article class="destination" data-name={d.name} aria-labelledby={`dest-${d.name}`}>
      <header>
        <h3 id={`dest-${d.name}`}>{d.name}</h3>
        <span class={`state state-${d.view_state}`} data-field="state">
          {d.view_state}
        </span>
        <span class="reason" data-field="reason">
          {d.held_reason ?? ''}
        </span>
        <span class="buttons">
          <button type="button" data-action="pause" disabled={d.view_state === 'paused'}>
            Pause
          </button>
          <button type="button" data-action="resume" disabled={d.view_state === 'running'}>
            Resume
          </button>
          <button type="button" data-action="replay-dead" disabled={d.dead === 0}>
            Replay dead
          </button>
        </span>
      </header>
      <dl class="stats">
        {STATS.map(([field, label]) => (
          <div>
            <dt>{label}</dt>
            <dd data-field={field}>–</dd>
          </div>
        ))}
      </dl>
      <p class="progress" data-field="replay" role="status"></p>
      <div class="charts">
        {CHARTS.map(([series, label]) => (
          <figure class="chart" data-series={series}>
            <figcaption>{label}</figcaption>
            <div class="plot" role="img" aria-label={`${label} of ${d.name}, last hour`}></div>
          </figure>
        ))}
      </div>
    </article>
  );
}

/** The same filters as `sluice events list`: status, source, destination, since/until, page size. */
function EventsBrowser(props: { sources: string[]; destinations: string[] }) {
  return (
    <section aria-labelledby="events-title">
      <h2 id="events-title">Events</h2>
      <form id="filters" class="filters">
        <label>
          Status
          <select name="status">
            <option value="">any</option>
            {['pending', 'in_flight', 'delivered', 'dead'].map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Source
          <select name="source">
            <option value="">any</option>
            {props.sources.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Destination
          <select name="destination">
            <option value="">any</option>
            {props.destinations.map((s) => (
              <option value={s}>{s}</option>
            ))}
          </select>
        </label>
        <label>
          Since
          <input type="datetime-local" name="since" step="1" />
        </label>
        <label>
          Until
          <input type="datetime-local" name="until" step="1" />
        </label>
        <label>
          Per page
          <select name="limit">
            {['20', '50', '100'].map((n) => (
              <option value={n}>{n}</option>
            ))}
          </select>
        </label>
        <button type="submit">Show</button>
      </form>
      <table class="events">
        <thead>
          <tr>
            <th scope="col">Received</th>
            <th scope="col">Source</th>
            <th scope="col">Deliveries</th>
            <th scope="col">Size</th>
            <th scope="col">
              <span class="visually-hidden">Inspect</span>
            </th>
          </tr>
        </thead>
        <tbody id="events"></tbody>
      </table>
      <nav class="pages" aria-label="Pages of events">
        <button type="button" id="first-page" disabled>
          First page
        </button>
        <button type="button" id="next-page" disabled>
          Next page
        </button>
      </nav>
    </section>
  );
}
