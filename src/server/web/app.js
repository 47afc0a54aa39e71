// engram's dashboard: a page per view, each drawn from the public HTTP API (docs/design.md), in
// the browser, with no build step. Every text from the store is set as text, never as markup.
'use strict';

// ---------------------------------------------------------------------------------------------
// Elements, formats, the API.

// h('td', {class: 'num'}, 'text', child, ...): an element; attributes named on* are listeners.
function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k.startsWith('on')) el.addEventListener(k.slice(2), v);
    else if (k === 'text') el.textContent = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  for (const c of children.flat(Infinity)) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : String(c));
  }
  return el;
}

// Replaces what `el` holds with `children`, as h() takes them (nested lists, nulls skipped).
function fill(el, ...children) {
  el.replaceChildren(...h('div', {}, ...children).childNodes);
}

const fmt = {
  int: (n) => (n === null || n === undefined ? '–' : Number(n).toLocaleString('en-US')),
  pct: (x) => (x === null || x === undefined || Number.isNaN(x) ? '–' : `${(x * 100).toFixed(1)}%`),
  ms(ms) {
    if (ms === null || ms === undefined) return '–';
    if (ms < 1000) return `${Math.round(ms)} ms`;
    const s = ms / 1000;
    if (s < 60) return `${s.toFixed(s < 10 ? 2 : 1)} s`;
    const m = Math.floor(s / 60);
    if (m < 60) return `${m}m ${Math.round(s % 60)}s`;
    return `${Math.floor(m / 60)}h ${m % 60}m`;
  },
  time(iso) {
    if (!iso) return '–';
    const d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'medium' });
  },
  num: (x, digits = 2) => (x === null || x === undefined ? '–' : Number(x).toFixed(digits)),
};

function durationOf(e) {
  const end = e.ended_at ? Date.parse(e.ended_at) : Date.now();
  return end - Date.parse(e.started_at);
}

const TOKEN_KEY = 'engram.token';

// The token prompt: once per browser session, again when the server refuses the one kept.
let asking = null;
function askToken(refused) {
  if (asking) return asking;
  const dialog = document.getElementById('token-dialog');
  const form = document.getElementById('token-form');
  const input = document.getElementById('token-input');
  const error = document.getElementById('token-error');
  error.hidden = !refused;
  error.textContent = refused ? 'The server refused that token: try again.' : '';
  input.value = '';
  // Escape would close the dialog with the page still waiting for a token: it stays open.
  dialog.oncancel = (ev) => ev.preventDefault();
  asking = new Promise((resolve) => {
    form.addEventListener('submit', function done() {
      form.removeEventListener('submit', done);
      sessionStorage.setItem(TOKEN_KEY, input.value.trim());
      asking = null;
      resolve();
    });
  });
  dialog.showModal();
  input.focus();
  return asking;
}

class ApiError extends Error {
  constructor(status, message) {
    super(message);
    this.status = status;
  }
}

// Whether the server wants a token (its /healthz says), asked once per page load.
let tokenCheck = null;
async function ensureToken() {
  if (!tokenCheck) {
    tokenCheck = fetch('/healthz').then((r) => r.json()).then((d) => Boolean(d.token_required), () => false);
  }
  if ((await tokenCheck) && !sessionStorage.getItem(TOKEN_KEY)) await askToken(false);
}

// The API's answer as JSON; the token asked for first when the server wants one, and again on
// 401 (then the call is made again).
async function api(path, options = {}) {
  await ensureToken();
  for (let attempt = 0; ; ++attempt) {
    const headers = { Accept: 'application/json' };
    const token = sessionStorage.getItem(TOKEN_KEY);
    if (token) headers.Authorization = `Bearer ${token}`;
    if (options.body !== undefined) headers['Content-Type'] = 'application/json';
    const res = await fetch(path, {
      method: options.method || 'GET',
      headers,
      body: options.body === undefined ? undefined : JSON.stringify(options.body),
      signal: options.signal,
    });
    if (res.status === 401 && attempt < 5) {
      await askToken(Boolean(token));
      continue;
    }
    const text = await res.text();
    let doc = null;
    try {
      doc = text ? JSON.parse(text) : null;
    } catch (e) {
      throw new ApiError(res.status, `${path}: the answer is not JSON`);
    }
    if (!res.ok) throw new ApiError(res.status, (doc && doc.error && doc.error.message) || res.statusText);
    return doc;
  }
}

function query(params) {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== '') q.set(k, v);
  const s = q.toString();
  return s ? `?${s}` : '';
}

function setStatus(text) {
  document.getElementById('status').textContent = text;
}

function outcomeBadge(e) {
  if (e.status === 'open') return h('span', { class: 'badge live', title: 'open: receiving steps' }, 'live');
  const kind = e.outcome ? e.outcome.kind : 'completed';
  return h('span', { class: `badge ${kind}` }, kind.replace('_', ' '));
}

function rewardOf(e) {
  return e.reward && typeof e.reward.total === 'number' ? e.reward.total : null;
}

// Chart.js colours from the page's own (light or dark).
function css(name) {
  return getComputedStyle(document.documentElement).getPropertyValue(name).trim();
}
function chart(canvas, config) {
  Chart.defaults.color = css('--muted');
  Chart.defaults.borderColor = css('--line');
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  return new Chart(canvas, config);
}

// A table: head labels (a label ending in '#' is a number column), and rows of cells or a
// tbody to fill later.
function table(caption, heads, rows, attrs = {}) {
  return h('div', { class: 'table-wrap' },
    h('table', attrs,
      caption ? h('caption', { class: 'muted', style: 'text-align:left' }, caption) : null,
      h('thead', {}, h('tr', {}, heads.map((t) => {
        const num = t.endsWith('#');
        return h('th', { scope: 'col', class: num ? 'num' : null }, num ? t.slice(0, -1) : t);
      }))),
      rows instanceof HTMLTableSectionElement ? rows : h('tbody', {}, rows)));
}

function episodeRow(e, extra = []) {
  const t = e.totals || {};
  return h('tr', { 'data-id': e.id },
    h('td', { class: 'task' }, h('a', { href: `#/episodes/${e.id}`, class: 'rowlink', title: e.task.length > 120 ? e.task.slice(0, 600) : null }, e.task)),
    h('td', {}, outcomeBadge(e)),
    h('td', { class: 'num' }, fmt.num(rewardOf(e))),
    h('td', { class: 'num' }, fmt.int(t.steps),
      t.failed_steps ? h('span', { class: 'bad', title: 'failed steps' }, ` (${t.failed_steps}✕)`) : null),
    h('td', { class: 'num' }, fmt.ms(durationOf(e))),
    h('td', { class: 'num' }, fmt.int(t.tokens)),
    h('td', { class: 'num hide-narrow' }, fmt.time(e.started_at)),
    extra);
}
const EPISODE_HEADS = ['Task', 'Outcome', 'Reward#', 'Steps#', 'Duration#', 'Tokens#', 'Started#'];

// j/k or the arrows move between the rows' links of `container`; Enter follows one. Keys typed
// anywhere on the page count, but not in a form field.
function rowKeys(container) {
  current.page.listen(document, 'keydown', (ev) => {
    if (!['ArrowDown', 'ArrowUp', 'j', 'k'].includes(ev.key)) return;
    if (ev.target.matches('input, select, textarea')) return;
    const links = [...container.querySelectorAll('a.rowlink')];
    if (!links.length) return;
    const at = links.indexOf(document.activeElement);
    const next = ev.key === 'ArrowDown' || ev.key === 'j' ? Math.min(at + 1, links.length - 1) : Math.max(at - 1, 0);
    links[next].focus();
    ev.preventDefault();
  });
}

// ---------------------------------------------------------------------------------------------
// Pages. Each renders into `main` and returns {stop(), update(route)?}.

// The API's timeline leaves out the spans with nothing in them; a chart wants them, as zeros
// (unless there would be more than 2,000 points, when the gaps stay).
function denseTimeline(timeline, bucket) {
  const step = { minute: 60e3, hour: 3600e3, day: 86400e3 }[bucket];
  if (timeline.length < 2) return timeline;
  const first = Date.parse(timeline[0].start);
  const last = Date.parse(timeline[timeline.length - 1].start);
  if ((last - first) / step > 2000) return timeline;
  const byStart = new Map(timeline.map((b) => [Date.parse(b.start), b]));
  const out = [];
  for (let t = first; t <= last; t += step) {
    out.push(byStart.get(t) || { start: new Date(t).toISOString(), steps: 0, failed_steps: 0, tokens: 0, episodes: 0, outcomes: {} });
  }
  return out;
}

// The latest episodes first (one indexed read), then the statistics (a pass over every step).
async function overviewPage(main, route, page) {
  const recentBody = h('tbody');
  const counted = h('div', { id: 'overview-stats', 'aria-busy': 'true' }, h('p', { class: 'muted' }, 'Counting…'));
  fill(main,
    h('h1', {}, 'Overview'),
    counted,
    h('section', {}, h('h2', {}, 'Recent episodes'),
      table(null, EPISODE_HEADS, recentBody, { id: 'recent' }),
      h('p', {}, h('a', { href: '#/episodes' }, 'All episodes →'))));
  rowKeys(main);
  // The recent episodes, and which are open, follow along.
  const refresh = async () => {
    const latest = await api('/v1/episodes?limit=10');
    fill(recentBody, latest.episodes.map((e) => episodeRow(e)));
  };
  await refresh();
  page.every(3000, refresh);

  const stats = await api('/v1/stats');
  if (page.stopped) return;
  const byStatus = stats.episodes_by_status || {};
  const episodes = Object.values(byStatus).reduce((a, b) => a + b, 0);
  const completed = Object.values(stats.outcomes || {}).reduce((a, b) => a + b, 0);
  const tokens = stats.tools.reduce((a, t) => a + t.tokens_total, 0);
  const card = (label, value, id) => h('div', { class: 'card' }, h('div', { class: 'label' }, label),
    h('div', { class: 'value', id }, value));
  const timeline = h('canvas', { role: 'img', 'aria-label': 'Steps and episodes over time' });
  const rates = h('canvas', { role: 'img', 'aria-label': 'Success rate over time' });
  const toolLink = (t) => h('a', { href: `#/tools?tool=${encodeURIComponent(t.tool)}` }, t.tool);
  fill(counted,
    h('div', { class: 'cards' },
      card('Episodes', fmt.int(episodes), 'card-episodes'),
      card('Open now', fmt.int(byStatus.open || 0), 'card-open'),
      card('Steps', fmt.int(stats.steps), 'card-steps'),
      card('Success rate', completed ? fmt.pct((stats.outcomes.success || 0) / completed) : '–', 'card-success'),
      card('Tokens', fmt.int(tokens), 'card-tokens')),
    h('div', { class: 'grid2' },
      h('section', {}, h('h2', {}, `Steps and episodes, by ${stats.bucket}`), h('div', { class: 'chart' }, timeline)),
      h('section', {}, h('h2', {}, `Success rate of the episodes started, by ${stats.bucket}`), h('div', { class: 'chart' }, rates))),
    h('div', { class: 'grid2' },
      h('section', {}, h('h2', {}, 'Busiest tools'),
        table(null, ['Tool', 'Calls#', 'Success#', 'p95#'], stats.tools.slice(0, 6).map((t) => h('tr', {},
          h('td', {}, toolLink(t)), h('td', { class: 'num' }, fmt.int(t.calls)),
          h('td', { class: 'num' }, fmt.pct(t.success_rate)), h('td', { class: 'num' }, fmt.ms(t.latency_p95_ms)))), { id: 'busiest' })),
      h('section', {}, h('h2', {}, 'Slowest tools'),
        table(null, ['Tool', 'p50#', 'p95#', 'Max#'], [...stats.tools].sort((a, b) => b.latency_p95_ms - a.latency_p95_ms)
          .slice(0, 6).map((t) => h('tr', {},
            h('td', {}, toolLink(t)), h('td', { class: 'num' }, fmt.ms(t.latency_p50_ms)),
            h('td', { class: 'num' }, fmt.ms(t.latency_p95_ms)), h('td', { class: 'num' }, fmt.ms(t.latency_max_ms)))), { id: 'slowest' }))));
  counted.removeAttribute('aria-busy');
  stats.timeline = denseTimeline(stats.timeline, stats.bucket);
  const many = stats.timeline.length > 60;  // then thin bars, no points on the lines
  const labels = stats.timeline.map((b) => new Date(b.start).toLocaleString(undefined,
    stats.bucket === 'day' ? { dateStyle: 'medium' } : { dateStyle: 'short', timeStyle: 'short' }));
  page.charts.push(chart(timeline, {
    data: {
      labels,
      datasets: [
        { type: 'bar', label: 'steps that succeeded', data: stats.timeline.map((b) => b.steps - b.failed_steps), backgroundColor: css('--bar'), stack: 's', yAxisID: 'y', categoryPercentage: many ? 1 : 0.8 },
        { type: 'bar', label: 'steps that failed', data: stats.timeline.map((b) => b.failed_steps), backgroundColor: css('--bar-bad'), stack: 's', yAxisID: 'y', categoryPercentage: many ? 1 : 0.8 },
        { type: 'line', label: 'episodes started', data: stats.timeline.map((b) => b.episodes), borderColor: css('--live'), backgroundColor: css('--live'), yAxisID: 'y2', pointRadius: many ? 0 : 3 },
      ],
    },
    options: { maintainAspectRatio: false, animation: false, interaction: { mode: 'index', intersect: false },
      scales: { y: { stacked: true, title: { display: true, text: 'steps' } },
        y2: { position: 'right', beginAtZero: true, grid: { drawOnChartArea: false }, title: { display: true, text: 'episodes' } },
        x: { stacked: true } } },
  }));
  page.charts.push(chart(rates, {
    type: 'line',
    data: {
      labels,
      datasets: [{ label: 'success rate', borderColor: css('--ok'), backgroundColor: css('--ok'), spanGaps: true, pointRadius: many ? 2 : 3,
        data: stats.timeline.map((b) => {
          const done = Object.values(b.outcomes).reduce((a, x) => a + x, 0);
          return done ? (b.outcomes.success || 0) / done : null;
        }) }],
    },
    options: { maintainAspectRatio: false, animation: false,
      scales: { y: { min: 0, max: 1, ticks: { callback: (v) => `${Math.round(v * 100)}%` } } } },
  }));
}

const STATUSES = ['open', 'completed'];
const OUTCOMES = ['success', 'partial_success', 'failure', 'abstained'];
const TASK_TYPES = ['code_generation', 'debugging', 'refactoring', 'testing', 'analysis', 'documentation', 'other'];
const PAGE_SIZE = 50;

function select(name, label, values, current) {
  return h('label', {}, label, h('select', { name },
    h('option', { value: '' }, 'any'),
    values.map((v) => h('option', { value: v, selected: v === current }, v.replace('_', ' ')))));
}
function field(name, label, current, attrs = {}) {
  return h('label', {}, label, h('input', { name, value: current || '', ...attrs }));
}

// A datetime-local value (the browser's time zone) as RFC 3339, and back.
const toIso = (local) => (local ? new Date(local).toISOString() : '');
function toLocal(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  const pad = (n) => String(n).padStart(2, '0');
  return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:${pad(d.getMinutes())}`;
}

async function episodesPage(main, route) {
  const p = route.params;
  const filters = ['status', 'outcome', 'domain', 'task_type', 'tag', 'since', 'until'];
  const form = h('form', { class: 'filters', role: 'search' },
    h('label', {}, 'Search (recall)', h('input', { type: 'search', name: 'q', value: p.q || '', placeholder: 'a task, in words  ( / )' })),
    select('status', 'Status', STATUSES, p.status),
    select('outcome', 'Outcome', OUTCOMES, p.outcome),
    field('domain', 'Domain', p.domain, { size: 10 }),
    select('task_type', 'Task type', TASK_TYPES, p.task_type),
    field('tag', 'Tag', p.tag, { size: 10 }),
    field('since', 'Since', toLocal(p.since), { type: 'datetime-local' }),
    field('until', 'Until', toLocal(p.until), { type: 'datetime-local' }),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'),
    h('a', { href: '#/episodes' }, 'Clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    data.since = toIso(data.since);
    data.until = toIso(data.until);
    location.hash = `#/episodes${query(data)}`;
  });
  const body = h('tbody');
  const pager = h('div', { class: 'pager' });
  const note = h('p', { class: 'muted', id: 'episodes-note' });
  fill(main, h('h1', {}, 'Episodes'), form, note,
    table(null, [...EPISODE_HEADS, ...(p.q ? ['Score#'] : [])], body, { id: 'episodes' }),
    pager);
  rowKeys(main);
  const started = performance.now();
  if (p.q) {
    // Recall ranks the completed episodes; their rows come from the list, by id.
    const found = await api('/v1/recall', { method: 'POST', body: { task: p.q, k: PAGE_SIZE, token_budget: 0 } });
    const ids = found.episodes.map((e) => e.id);
    const rows = ids.length ? (await api(`/v1/episodes${query({ ids: ids.join(','), limit: ids.length })}`)).episodes : [];
    const byId = new Map(rows.map((e) => [e.id, e]));
    const kept = found.episodes.filter((r) => byId.has(r.id) && filters.every((f) => !p[f] || matches(byId.get(r.id), f, p[f])));
    fill(body, ...kept.map((r) => episodeRow(byId.get(r.id), [h('td', { class: 'num' }, fmt.num(r.score, 3))])));
    note.textContent = `${kept.length} episodes ranked by recall for “${p.q}” (completed episodes only, the filters applied to the ${found.episodes.length} it found).`;
  } else {
    const list = await api(`/v1/episodes${query({ ...Object.fromEntries(filters.map((f) => [f, p[f]])), cursor: p.cursor, limit: PAGE_SIZE })}`);
    fill(body, ...list.episodes.map((e) => episodeRow(e)));
    note.textContent = list.episodes.length ? `Newest first, ${list.episodes.length} on this page.` : 'No episodes match.';
    const here = { ...p };
    delete here.cursor;
    if (p.cursor) pager.append(h('a', { href: `#/episodes${query(here)}` }, '← Newest'));
    if (list.next_cursor) pager.append(h('a', { href: `#/episodes${query({ ...here, cursor: list.next_cursor })}`, id: 'next-page', rel: 'next' }, 'Older →'));
  }
  setStatus(`episodes in ${Math.round(performance.now() - started)} ms`);
  current.page.listen(document, 'keydown', (ev) => {
    if (ev.key === '/' && !ev.target.matches('input, select, textarea')) {
      form.elements.q.focus();
      ev.preventDefault();
    }
  });
}

function matches(e, f, v) {
  if (f === 'status') return e.status === v;
  if (f === 'outcome') return e.outcome && e.outcome.kind === v;
  if (f === 'domain') return e.context.domain === v;
  if (f === 'task_type') return e.task_type === v;
  if (f === 'tag') return e.context.tags.includes(v);
  if (f === 'since') return Date.parse(e.started_at) >= Date.parse(v);
  if (f === 'until') return Date.parse(e.started_at) < Date.parse(v);
  return true;
}

// The episode: its head at once, its steps page by page into a timeline of which only the rows
// on screen are drawn; an open one polled for new steps every second.
async function episodePage(main, route, page) {
  const id = route.id;
  let head = await api(`/v1/episodes/${id}?steps=false`);
  const steps = [];
  let selected = null;
  const ROW = 30;
  const OVERSCAN = 10;
  let t0 = Date.parse(head.started_at);
  let t1 = t0 + 1;
  let loading = true;

  const heading = h('div');
  const detail = h('section', { class: 'step-detail', id: 'step-detail', 'aria-live': 'polite', hidden: true });
  const colgroup = h('colgroup', {}, ['n', 'at', 'tool', 'act', 'lat', 'tok', 'wf'].map((c) => h('col', { class: c })));
  const tbody = h('tbody');
  const scroller = h('div', { class: 'timeline', tabindex: '0', role: 'region', 'aria-label': 'Steps; arrows move, Enter opens' },
    h('table', { id: 'steps' }, h('caption', { class: 'muted', style: 'text-align:left' }, 'Steps, as a waterfall from the episode\u2019s start'), colgroup,
      h('thead', {}, h('tr', {},
        h('th', { scope: 'col', class: 'num' }, '#'), h('th', { scope: 'col', class: 'num' }, 'At'),
        h('th', { scope: 'col' }, 'Tool'), h('th', { scope: 'col' }, 'Action'),
        h('th', { scope: 'col', class: 'num' }, 'Latency'), h('th', { scope: 'col', class: 'num' }, 'Tokens'),
        h('th', { scope: 'col' }, 'Waterfall'))),
      tbody));
  const stepCount = h('span', { id: 'step-count' });
  const suggestions = h('section');
  const below = h('div');
  fill(main, heading, h('h2', {}, 'Steps ', h('span', { class: 'muted' }, '(', stepCount, ')')), scroller, detail, suggestions, below);

  function renderHead() {
    const t = head.totals || {};
    const ctx = head.context || {};
    const chips = [ctx.domain && `domain ${ctx.domain}`, ctx.language && `language ${ctx.language}`,
      ctx.framework && `framework ${ctx.framework}`, ctx.complexity && `complexity ${ctx.complexity}`,
      ...(ctx.tags || []).map((x) => `#${x}`)].filter(Boolean);
    const reward = head.reward && typeof head.reward === 'object' ? head.reward : null;
    fill(heading, 
      h('p', {}, h('a', { href: '#/episodes' }, '← Episodes')),
      h('h1', { id: 'episode-task' }, head.task),
      h('div', { class: 'chips' }, outcomeBadge(head), h('span', { class: 'chip' }, head.task_type.replace('_', ' ')),
        chips.map((c) => h('span', { class: 'chip' }, c))),
      h('dl', { class: 'facts' },
        h('dt', {}, 'Started'), h('dd', {}, fmt.time(head.started_at)),
        h('dt', {}, 'Duration'), h('dd', {}, fmt.ms(durationOf(head)), head.status === 'open' ? ' so far' : ''),
        h('dt', {}, 'Steps'), h('dd', { id: 'episode-steps' }, fmt.int(t.steps), t.failed_steps ? h('span', { class: 'bad' }, `, ${t.failed_steps} failed`) : ''),
        h('dt', {}, 'Tokens'), h('dd', {}, fmt.int(t.tokens)),
        head.outcome ? [h('dt', {}, 'Outcome'), h('dd', { id: 'episode-outcome' }, head.outcome.kind.replace('_', ' '),
          head.outcome.summary ? ` — ${head.outcome.summary}` : '')] : null,
        reward ? [h('dt', {}, 'Reward'), h('dd', { id: 'episode-reward' }, fmt.num(reward.total, 3), ' ',
          h('span', { class: 'muted' }, '(', Object.entries(reward).filter(([k]) => k !== 'total')
            .map(([k, v]) => `${k.replace(/_/g, ' ')} ${v === null ? '–' : typeof v === 'number' ? +v.toFixed(3) : v}`).join(', '), ')'))] : null),
      Object.keys(head.metadata || {}).length ? h('details', {}, h('summary', {}, 'Metadata'), h('pre', {}, JSON.stringify(head.metadata, null, 2))) : null);
  }

  // The timeline's rows between the scroll position's, with spacers for the rest.
  function renderRows() {
    const top = scroller.scrollTop;
    const height = Math.max(scroller.clientHeight, window.innerHeight * 0.6);
    const first = Math.max(0, Math.floor(top / ROW) - OVERSCAN);
    const last = Math.min(steps.length, Math.ceil((top + height) / ROW) + OVERSCAN);
    const span = Math.max(t1 - t0, 1);
    const rows = [h('tr', { class: 'spacer', 'aria-hidden': 'true', style: `height:${first * ROW}px` }, h('td', { colspan: 7 }))];
    for (let i = first; i < last; ++i) {
      const s = steps[i];
      const at = Date.parse(s.timestamp) - t0;
      const left = Math.min(99.5, Math.max(0, (at / span) * 100));
      const width = Math.max(0.3, Math.min(100 - left, (s.latency_ms / span) * 100));
      rows.push(h('tr', { class: `${s.success ? '' : 'failed'}${s.step_number === selected ? ' selected' : ''}`, 'data-step': s.step_number,
        'aria-selected': s.step_number === selected ? 'true' : 'false' },
        h('td', { class: 'num' }, s.step_number),
        h('td', { class: 'num' }, fmt.ms(at)),
        h('td', { class: 'tool', title: s.tool }, s.success ? '' : h('span', { 'aria-label': 'failed' }, '✕ '), s.tool),
        h('td', { title: s.action }, s.action),
        h('td', { class: 'num' }, fmt.ms(s.latency_ms)),
        h('td', { class: 'num' }, s.tokens === null ? '' : fmt.int(s.tokens)),
        h('td', {}, h('div', { class: 'wf', title: `${fmt.ms(at)} + ${fmt.ms(s.latency_ms)}` },
          h('span', { class: s.success ? '' : 'failed', style: `left:${left}%;width:${width}%` })))));
    }
    rows.push(h('tr', { class: 'spacer', 'aria-hidden': 'true', style: `height:${(steps.length - last) * ROW}px` }, h('td', { colspan: 7 })));
    fill(tbody, ...rows);
    stepCount.textContent = `${fmt.int(steps.length)}${loading ? ', loading…' : ''}`;
  }
  let frame = 0;
  const schedule = () => {
    if (!frame) frame = requestAnimationFrame(() => { frame = 0; renderRows(); });
  };
  scroller.addEventListener('scroll', schedule);

  function addSteps(more) {
    for (const s of more) {
      steps.push(s);
      const start = Date.parse(s.timestamp);
      t0 = Math.min(t0, start);
      t1 = Math.max(t1, start + s.latency_ms);
    }
    schedule();
  }

  function openStep(n, scroll) {
    const s = steps.find((x) => x.step_number === n);
    if (!s) return;
    selected = n;
    if (scroll) {
      const i = steps.indexOf(s);
      const top = i * ROW;
      if (top < scroller.scrollTop || top > scroller.scrollTop + scroller.clientHeight - 2 * ROW) scroller.scrollTop = Math.max(0, top - 3 * ROW);
    }
    detail.hidden = false;
    const pre = (label, value) => [h('h3', {}, label), h('pre', {}, value)];
    fill(detail, 
      h('h2', { id: 'step-title' }, `Step ${s.step_number} · ${s.tool} `, s.success ? h('span', { class: 'badge success' }, 'succeeded') : h('span', { class: 'badge failure' }, 'failed')),
      h('dl', { class: 'facts' },
        h('dt', {}, 'At'), h('dd', {}, fmt.time(s.timestamp)),
        h('dt', {}, 'Latency'), h('dd', {}, fmt.ms(s.latency_ms)),
        h('dt', {}, 'Tokens'), h('dd', {}, s.tokens === null ? '–' : fmt.int(s.tokens))),
      pre('Action', s.action),
      Object.keys(s.parameters).length ? pre('Parameters', JSON.stringify(s.parameters, null, 2)) : null,
      pre('Observation', s.observation || '(none)'),
      Object.keys(s.metadata).length ? pre('Metadata', JSON.stringify(s.metadata, null, 2)) : null);
    renderRows();
  }
  page.update = (r) => {
    if (r.id !== id) return false;
    if (r.step) openStep(Number(r.step), true);
    return true;
  };
  tbody.addEventListener('click', (ev) => {
    const tr = ev.target.closest('tr[data-step]');
    if (tr) location.hash = `#/episodes/${id}/steps/${tr.dataset.step}`;
  });
  scroller.addEventListener('keydown', (ev) => {
    const i = steps.findIndex((x) => x.step_number === selected);
    let next = null;
    if (ev.key === 'ArrowDown' || ev.key === 'j') next = Math.min(steps.length - 1, i + 1);
    else if (ev.key === 'ArrowUp' || ev.key === 'k') next = Math.max(0, i - 1);
    else if (ev.key === 'Home') next = 0;
    else if (ev.key === 'End') next = steps.length - 1;
    else if (ev.key === 'Enter' && selected !== null) next = i;
    if (next === null || !steps.length) return;
    ev.preventDefault();
    history.replaceState(null, '', `#/episodes/${id}/steps/${steps[next].step_number}`);
    openStep(steps[next].step_number, true);
  });

  // While the episode is open: what similar past episodes did next, asked again as steps come.
  async function renderSuggestions() {
    if (head.status !== 'open') return fill(suggestions);
    const suggest = await api(`/v1/episodes/${id}/suggest`);
    if (page.stopped) return null;
    return fill(suggestions, h('h2', {}, 'Next-step suggestions'), suggest.suggestions.length
      ? table(null, ['Tool', 'Score#', 'Support#', 'Success#', 'Example', 'Why'], suggest.suggestions.map((s) => h('tr', {},
        h('td', {}, s.tool), h('td', { class: 'num' }, fmt.num(s.score, 3)), h('td', { class: 'num' }, s.support),
        h('td', { class: 'num' }, fmt.pct(s.success_rate)), h('td', {}, s.example_action), h('td', {}, s.why))), { id: 'suggestions' })
      : h('p', { class: 'muted', id: 'suggestions' }, 'Nothing learnt yet applies here.'));
  }

  // What the episode taught: the reflection (its steps as links), patterns, similar episodes.
  async function renderLearning() {
    const parts = [];
    const r = head.reflection;
    if (r && typeof r === 'object') {
      const sections = [['worked', 'What worked'], ['improve', 'What to improve'], ['insights', 'Insights']];
      parts.push(h('h2', {}, 'Reflection'), h('div', { class: 'reflection', id: 'reflection' }, sections.filter(([k]) => Array.isArray(r[k]) && r[k].length).map(([k, title]) => [
        h('h3', {}, title),
        h('ul', {}, r[k].map((item) => h('li', {}, typeof item === 'string' ? item : item.text,
          (item.steps || []).map((n) => h('a', { class: 'steplink', href: `#/episodes/${id}/steps/${n}`, 'aria-label': `step ${n}` }, `#${n}`)))))])));
    }
    const [patterns, similar] = await Promise.all([
      api(`/v1/patterns${query({ episode: id })}`).catch(() => ({ patterns: [] })),
      api('/v1/recall', { method: 'POST', body: { task: head.task, context: head.context, k: 6, token_budget: 0 } }).catch(() => ({ episodes: [] })),
      renderSuggestions(),
    ]);
    const shown = patterns.patterns.slice(0, 12);
    const more = patterns.patterns.length - shown.length;
    parts.push(h('h2', {}, 'Patterns it shows'), shown.length
      ? table(more > 0 ? `The ${shown.length} best supported of ${patterns.patterns.length}` : null,
        ['Type', 'Pattern', 'Support#', 'Success#'], shown.map((p) => h('tr', {},
        h('td', {}, p.type.replace('_', ' ')), h('td', {}, h('a', { href: `#/patterns${query({ type: p.type, open: p.id })}` }, describePattern(p))),
        h('td', { class: 'num' }, p.support), h('td', { class: 'num' }, fmt.pct(p.success_rate)))), { id: 'episode-patterns' })
      : h('p', { class: 'muted' }, head.status === 'open' ? 'Patterns are mined when the episode completes.' : 'None.'));
    const others = similar.episodes.filter((e) => e.id !== id).slice(0, 5);
    parts.push(h('h2', {}, 'Similar episodes'), others.length
      ? h('ul', { id: 'similar' }, others.map((e) => h('li', {}, h('a', { href: `#/episodes/${e.id}` }, e.task), ' ',
        e.outcome ? h('span', { class: `badge ${e.outcome.kind}` }, e.outcome.kind.replace('_', ' ')) : null,
        h('span', { class: 'muted' }, ` score ${fmt.num(e.score, 3)}`))))
      : h('p', { class: 'muted' }, 'None recalled.'));
    fill(below, ...parts.flat());
  }

  renderHead();
  renderRows();
  if (route.step) selected = Number(route.step);
  // The steps, a page at a time: the first screen as soon as its page is in.
  let after = 0;
  for (;;) {
    const got = await api(`/v1/episodes/${id}/steps${query({ after, limit: after === 0 ? 200 : 5000 })}`);
    if (page.stopped) return;
    addSteps(got.steps);
    if (got.next_after === null) break;
    after = got.next_after;
  }
  loading = false;
  renderRows();
  if (route.step) openStep(Number(route.step), true);
  await renderLearning();

  // Live: new steps every second while the episode is open; the rest when it completes.
  if (head.status === 'open') {
    let polling = false;
    page.every(1000, async () => {
      if (polling) return;
      polling = true;
      try {
        const last = steps.length ? steps[steps.length - 1].step_number : 0;
        const got = await api(`/v1/episodes/${id}/steps${query({ after: last, limit: 5000 })}`);
        addSteps(got.steps);
        const now = await api(`/v1/episodes/${id}?steps=false`);
        const completed = now.status !== head.status;
        head = now;
        renderHead();
        if (completed) {
          page.stopTimers();
          await renderLearning();
        } else if (got.steps.length) {
          await renderSuggestions();
        }
      } finally {
        polling = false;
      }
    });
  }
}

function describePattern(p) {
  const d = p.description || {};
  switch (p.type) {
    case 'tool_sequence': return (d.tools || []).join(' → ');
    case 'error_recovery': return `${d.error_tool}: ${d.error_signature} ⇒ ${(d.recovery || []).join(' → ')}`;
    case 'decision_point': return `after ${d.after_tool} ${d.after_success ? 'succeeds' : 'fails'}`;
    case 'context': return Object.entries(d).map(([k, v]) => `${k} ${v}`).join(', ');
    default: return JSON.stringify(d);
  }
}

async function toolsPage(main, route, page) {
  const p = route.params;
  const form = h('form', { class: 'filters' },
    field('tool', 'Tool', p.tool, { size: 14 }), field('domain', 'Domain', p.domain, { size: 10 }),
    field('since', 'Since', toLocal(p.since), { type: 'datetime-local' }),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'), h('a', { href: '#/tools' }, 'Clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    const data = Object.fromEntries(new FormData(form));
    data.since = toIso(data.since);
    location.hash = `#/tools${query(data)}`;
  });
  const stats = await api(`/v1/stats${query({ tool: p.tool, domain: p.domain, since: p.since })}`);
  const bounds = stats.latency_bounds_ms;
  const rangeLabels = [...bounds.map((b, i) => `${i ? fmt.ms(bounds[i - 1]) : '0'}–${fmt.ms(b)}`), `> ${fmt.ms(bounds[bounds.length - 1])}`];
  const canvases = [];
  const rows = stats.tools.map((t) => {
    const c = h('canvas', { role: 'img', 'aria-label': `latency distribution of ${t.tool}` });
    canvases.push([c, t]);
    return h('tr', { 'data-tool': t.tool },
      h('th', { scope: 'row' }, t.tool),
      h('td', { class: 'num' }, fmt.int(t.calls)),
      h('td', { class: `num ${t.success_rate < 0.8 ? 'bad' : ''}` }, fmt.pct(t.success_rate)),
      h('td', { class: 'num' }, fmt.ms(t.latency_p50_ms)), h('td', { class: 'num' }, fmt.ms(t.latency_p95_ms)),
      h('td', { class: 'num' }, fmt.ms(t.latency_p99_ms)), h('td', { class: 'num' }, fmt.ms(t.latency_max_ms)),
      h('td', { class: 'num' }, fmt.int(t.tokens_total)),
      h('td', {}, h('div', { class: 'chart small' }, c)));
  });
  fill(main, h('h1', {}, 'Tools'), form,
    h('p', { class: 'muted' }, `${fmt.int(stats.steps)} steps. Percentiles are exact; each distribution counts calls by latency range (1-2-5 steps from 1 ms).`),
    stats.tools.length ? table(null, ['Tool', 'Calls#', 'Success#', 'p50#', 'p95#', 'p99#', 'Max#', 'Tokens#', 'Latency distribution'], rows, { id: 'tools' })
      : h('p', { class: 'muted' }, 'No steps match.'),
    stats.slowest_steps.length ? h('section', {}, h('h2', {}, 'Slowest steps'),
      table(null, ['Tool', 'Action', 'Latency#', 'Episode'], stats.slowest_steps.map((s) => h('tr', {},
        h('td', {}, s.tool), h('td', { class: 'task' }, s.action), h('td', { class: 'num' }, fmt.ms(s.latency_ms)),
        h('td', {}, h('a', { href: `#/episodes/${s.episode_id}/steps/${s.step_number}` }, `step ${s.step_number}`)))), { id: 'slowest-steps' })) : null);
  for (const [c, t] of canvases) {
    page.charts.push(chart(c, {
      type: 'bar',
      data: { labels: rangeLabels, datasets: [{ label: 'calls', data: t.latency_histogram, backgroundColor: css('--bar'), barPercentage: 1, categoryPercentage: 1 }] },
      options: { maintainAspectRatio: false, animation: false, plugins: { legend: { display: false } },
        scales: { x: { display: false }, y: { display: false, beginAtZero: true } } },
    }));
  }
}

async function patternsPage(main, route) {
  const p = route.params;
  const types = ['tool_sequence', 'error_recovery', 'decision_point', 'context'];
  const form = h('form', { class: 'filters' },
    select('type', 'Type', types, p.type),
    field('min_support', 'Support at least', p.min_support, { type: 'number', min: 1, size: 4 }),
    field('min_success', 'Success at least (0–1)', p.min_success, { type: 'number', min: 0, max: 1, step: 0.05 }),
    field('domain', 'Domain', p.domain, { size: 10 }),
    h('button', { type: 'submit', class: 'primary' }, 'Apply'), h('a', { href: '#/patterns' }, 'Clear'));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/patterns${query(Object.fromEntries(new FormData(form)))}`;
  });
  const got = await api(`/v1/patterns${query({ type: p.type, min_support: p.min_support, min_success: p.min_success, domain: p.domain })}`);
  const groups = types.filter((t) => !p.type || t === p.type).map((t) => [t, got.patterns.filter((x) => x.type === t)]);
  fill(main, h('h1', {}, 'Patterns'), form,
    h('p', { class: 'muted' }, `${got.patterns.length} patterns mined across completed episodes. Open one to see its evidence.`),
    groups.map(([t, list]) => h('section', { id: `patterns-${t}` }, h('h2', {}, `${t.replace('_', ' ')} (${list.length})`),
      list.length ? list.slice(0, 200).map((x) => patternItem(x, x.id === p.open)) : h('p', { class: 'muted' }, 'None.'))));
  const open = main.querySelector('details[open]');
  if (open) open.scrollIntoView({ block: 'center' });
}

function patternItem(p, open) {
  const evidence = h('div', {}, h('p', { class: 'muted' }, 'Loading…'));
  const details = h('details', { class: 'pattern', 'data-id': p.id, open },
    h('summary', {}, describePattern(p), ' ', h('span', { class: 'muted' },
      `· support ${p.support} · success ${fmt.pct(p.success_rate)} · ${fmt.int(p.occurrences)} times · mean ${fmt.ms(p.mean_latency_ms)}`)),
    p.branches ? h('p', {}, 'Next: ', Object.entries(p.branches).map(([tool, b]) => `${tool} ${b.taken}× (${fmt.pct(b.success_rate)})`).join(', ')) : null,
    evidence);
  let loaded = false;
  const load = async () => {
    if (loaded || !details.open) return;
    loaded = true;
    const ids = p.evidence.slice(0, 100);
    const list = ids.length ? await api(`/v1/episodes${query({ ids: ids.join(','), limit: ids.length })}`) : { episodes: [] };
    fill(evidence, list.episodes.length
      ? table(`Evidence: ${list.episodes.length} of ${p.support} episodes, newest first`, EPISODE_HEADS, list.episodes.map((e) => episodeRow(e)))
      : h('p', { class: 'muted' }, 'Its episodes have been removed.'));
  };
  details.addEventListener('toggle', load);
  if (open) load();
  return details;
}

async function recallPage(main, route, page) {
  const p = route.params;
  const form = h('form', { class: 'stack' },
    h('label', {}, 'Task', h('textarea', { name: 'task', required: true, placeholder: 'What the agent is about to do' }, p.task || '')),
    h('div', { class: 'row' },
      field('domain', 'Domain', p.domain, { size: 10 }), field('language', 'Language', p.language, { size: 10 }),
      field('framework', 'Framework', p.framework, { size: 10 }), field('tags', 'Tags (comma-separated)', p.tags, { size: 14 }),
      field('k', 'Episodes', p.k || '5', { type: 'number', min: 1, max: 100 }),
      field('token_budget', 'Playbook budget (tokens)', p.token_budget || '500', { type: 'number', min: 0, max: 100000 })),
    h('div', {}, h('button', { type: 'submit', class: 'primary' }, 'Recall')));
  form.addEventListener('submit', (ev) => {
    ev.preventDefault();
    location.hash = `#/recall${query(Object.fromEntries(new FormData(form)))}`;
  });
  const results = h('div', { id: 'recall-results' });
  fill(main, h('h1', {}, 'Recall'), h('p', { class: 'muted' }, 'What an agent starting this task would be given: past episodes ranked, the patterns among them, the playbook.'), form, results);
  if (!p.task) return;
  const context = {};
  for (const k of ['domain', 'language', 'framework']) if (p[k]) context[k] = p[k];
  if (p.tags) context.tags = p.tags.split(',').map((x) => x.trim()).filter(Boolean);
  const r = await api('/v1/recall', { method: 'POST', body: { task: p.task, context, k: Number(p.k || 5), token_budget: Number(p.token_budget || 500) } });
  const signals = ['text', 'context', 'outcome', 'recency'];
  const colours = [css('--bar'), css('--live'), css('--ok'), css('--warn')];
  const canvas = h('canvas', { role: 'img', 'aria-label': 'Each signal\u2019s share of each episode\u2019s score' });
  fill(results, 
    h('h2', {}, `Episodes (${r.episodes.length})`),
    r.episodes.length ? [
      table(null, ['#', 'Task', 'Outcome', 'Reward#', 'Score#', ...signals.map((s) => `${s}#`)], r.episodes.map((e, i) => h('tr', {},
        h('td', {}, i + 1), h('td', { class: 'task' }, h('a', { href: `#/episodes/${e.id}`, class: 'rowlink' }, e.task),
          e.warning ? h('span', { class: 'badge failure', title: 'it failed: what to avoid' }, 'warning') : null),
        h('td', {}, e.outcome ? h('span', { class: `badge ${e.outcome.kind}` }, e.outcome.kind.replace('_', ' ')) : '–'),
        h('td', { class: 'num' }, fmt.num(e.reward, 3)), h('td', { class: 'num' }, fmt.num(e.score, 3)),
        signals.map((s) => h('td', { class: 'num' }, fmt.num(e.why[s] || 0, 3))))), { id: 'recalled' }),
      h('div', { class: 'chart', style: `height:${60 + 34 * r.episodes.length}px` }, canvas)]
      : h('p', { class: 'muted' }, 'Nothing stored is close enough.'),
    h('h2', {}, `Patterns (${r.patterns.length})`),
    r.patterns.length ? table(null, ['Type', 'Pattern', 'Seen in#', 'Success here#'], r.patterns.map((x) => h('tr', {},
      h('td', {}, x.type.replace('_', ' ')), h('td', {}, h('a', { href: `#/patterns${query({ type: x.type, open: x.id })}` }, describePattern(x))),
      h('td', { class: 'num' }, x.seen_in), h('td', { class: 'num' }, fmt.pct(x.success_here)))), { id: 'recall-patterns' })
      : h('p', { class: 'muted' }, 'None.'),
    h('h2', {}, `Playbook (${fmt.int(r.playbook_tokens)} tokens)`),
    h('pre', { id: 'playbook' }, r.playbook || '(empty)'));
  rowKeys(results);
  if (r.episodes.length) {
    page.charts.push(chart(canvas, {
      type: 'bar',
      data: {
        labels: r.episodes.map((e, i) => `${i + 1}. ${e.task.length > 48 ? `${e.task.slice(0, 47)}…` : e.task}`),
        datasets: signals.map((s, i) => ({ label: s, data: r.episodes.map((e) => e.why[s] || 0), backgroundColor: colours[i] })),
      },
      options: { indexAxis: 'y', maintainAspectRatio: false, animation: false,
        scales: { x: { stacked: true, title: { display: true, text: 'share of the score' } }, y: { stacked: true } } },
    }));
  }
}

// ---------------------------------------------------------------------------------------------
// The router: #/, #/episodes?…, #/episodes/{id}[/steps/{n}], #/tools?…, #/patterns?…, #/recall?…

function parseRoute() {
  const hash = location.hash.replace(/^#/, '') || '/';
  const [path, search] = hash.split('?');
  const params = Object.fromEntries(new URLSearchParams(search || ''));
  const parts = path.split('/').filter(Boolean);
  if (parts[0] === 'episodes' && parts[1]) return { name: 'episode', nav: 'episodes', id: parts[1], step: parts[2] === 'steps' ? parts[3] : null, params };
  const name = parts[0] || 'overview';
  return { name, nav: name, params };
}

const PAGES = { overview: overviewPage, episodes: episodesPage, episode: episodePage, tools: toolsPage, patterns: patternsPage, recall: recallPage };
let current = null;

function newPage() {
  const page = { charts: [], timers: [], stopped: false };
  page.every = (ms, fn) => page.timers.push(setInterval(() => { fn().catch((e) => setStatus(e.message)); }, ms));
  page.stopTimers = () => { page.timers.forEach(clearInterval); page.timers = []; };
  page.listeners = [];
  page.listen = (target, type, fn) => {
    target.addEventListener(type, fn);
    page.listeners.push(() => target.removeEventListener(type, fn));
  };
  page.stop = () => {
    page.stopped = true;
    page.stopTimers();
    page.charts.forEach((c) => c.destroy());
    page.listeners.forEach((remove) => remove());
  };
  return page;
}

async function show() {
  const route = parseRoute();
  for (const a of document.querySelectorAll('nav a')) {
    if (a.dataset.page === route.nav) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  if (current && current.route.name === route.name && current.page.update && current.page.update(route)) {
    current.route = route;
    return;
  }
  if (current) current.page.stop();
  const page = newPage();
  current = { route, page };
  const render = PAGES[route.name];
  const main = document.getElementById('main');
  const fresh = h('main', { id: 'main', tabindex: '-1' }, h('p', { class: 'muted' }, 'Loading…'));
  main.replaceWith(fresh);  // a new element: the last page's listeners go with the old one
  document.title = `engram · ${route.name}`;
  if (!render) {
    fill(fresh, h('h1', {}, 'Not found'), h('p', {}, 'No such page. ', h('a', { href: '#/' }, 'Overview')));
    return;
  }
  setStatus('');
  try {
    await render(fresh, route, page);
  } catch (e) {
    if (page.stopped) return;
    fill(fresh, h('h1', {}, 'Something went wrong'), h('p', { class: 'error', role: 'alert', id: 'page-error' }, e.message));
  }
}

window.addEventListener('hashchange', show);
document.addEventListener('DOMContentLoaded', show);
