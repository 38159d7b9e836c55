// Helpers the dashboard's scripts share (loaded first; classic scripts share their top-level
// names). Text from events only ever goes into textContent, never into HTML: see h().

export const csrf = document.querySelector('meta[name="csrf-token"]')?.content ?? '';
export const $ = (selector, root = document) => root.querySelector(selector);

/** An element with attributes and children (strings become text nodes). */
export function h(tag, attrs = {}, ...children) {
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

export function notice(text, isError = false) {
  const el = $('#notice');
  el.textContent = text;
  el.classList.toggle('error', isError);
}

export const number = (n) => (n === null || n === undefined ? '–' : n.toLocaleString('en-US'));
export const rate = (n) => `${n < 10 ? n.toFixed(1) : Math.round(n).toLocaleString('en-US')}/s`;
export function duration(seconds) {
  if (seconds === null || seconds === undefined) return '–';
  if (seconds < 60) return `${seconds} s`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)} min ${seconds % 60} s`;
  return `${Math.floor(seconds / 3600)} h ${Math.floor((seconds % 3600) / 60)} min`;
}
export const clockTime = (ms) => new Date(ms).toLocaleTimeString('en-GB');
/** Local time as 2026-12-01 15:04:05: unambiguous whatever the browser's locale. */
export function stamp(ms) {
  const d = new Date(ms);
  const two = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${two(d.getMonth() + 1)}-${two(d.getDate())} ${clockTime(ms)}`;
}
/** The top of a chart's scale: 1, 2 or 5 × a power of ten, so that the axis labels its top line. */
export function niceMax(max) {
  if (!(max > 0)) return 1;
  const power = 10 ** Math.floor(Math.log10(max));
  return [1, 2, 5, 10].map((m) => m * power).find((top) => top >= max);
}

/** A state-changing request: JSON, with the sign-in's CSRF token. */
export async function post(url) {
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
