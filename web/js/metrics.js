// SPDX-License-Identifier: MIT
// metrics.js - the head of support's metrics page: a month (the last full month unless the
// address says otherwise) or a from/to period, and a breakdown (none, category, client, site
// kind, engineer); the headline figures of GET /api/v1/metrics and a table of the groups, with
// links to the monthly report (HTML and CSV) for the roles that may read it. The choice is
// kept in the address, so a view can be reloaded or shared. Every figure is fieldd's; the page
// only formats it (definitions: docs/metrics.md).

import { api } from './api.js';
import { $, h, fill, label, showProblem, start, pageError } from './ui.js';

const REPORT_ROLES = ['admin', 'head'];
const BY_TITLES = { category: 'By category', client: 'By client', site_kind: 'By site kind',
                    engineer: 'By engineer' };

let user;
let inflight = null;

/* --- formats ---------------------------------------------------------------------------- */

const DASH = '—';

// Working time as a person reads it: 7500 s is "2 h 05 min", 2700 s "45 min".
function fmtDuration(seconds) {
    if (seconds === null || seconds === undefined)
        return DASH;
    const min = Math.round(Number(seconds) / 60);
    if (min < 60)
        return `${min} min`;
    return `${Math.floor(min / 60)} h ${String(min % 60).padStart(2, '0')} min`;
}

function fmtPct(v) {
    return v === null || v === undefined ? DASH : `${Number(v).toFixed(1)} %`;
}

function fmtNum(v, digits) {
    return v === null || v === undefined ? DASH : Number(v).toFixed(digits);
}

function fmtCount(v) {
    return v === null || v === undefined ? DASH : String(v);
}

function pad2(n) {
    return String(n).padStart(2, '0');
}

// The last full month of the browser's calendar, as YYYY-MM.
function lastFullMonth() {
    const d = new Date();
    d.setDate(1);
    d.setMonth(d.getMonth() - 1);
    return `${d.getFullYear()}-${pad2(d.getMonth() + 1)}`;
}

function monthName(month) {
    const d = new Date(`${month}-01T12:00:00`);
    return isNaN(d) ? month : d.toLocaleDateString(undefined, { month: 'long', year: 'numeric' });
}

function dayName(day) {
    const d = new Date(`${day}T12:00:00`);
    return isNaN(d) ? day : d.toLocaleDateString(undefined, { day: 'numeric', month: 'short',
                                                             year: 'numeric' });
}

/* --- the choice ------------------------------------------------------------------------- */

// The query of the current choice (month or from/to, and by), as fieldd takes it.
function choice() {
    const p = new URLSearchParams();
    if ($('#mode').value === 'month') {
        p.set('month', $('#month').value);
    } else {
        p.set('from', $('#from').value);
        p.set('to', $('#to').value);
    }
    if ($('#by').value)
        p.set('by', $('#by').value);
    return p;
}

function showMode() {
    const period = $('#mode').value === 'period';
    $('#month-box').hidden = period;
    document.querySelectorAll('.period-box').forEach(b => { b.hidden = !period; });
}

// The monthly report exists per month, for admin and head only.
function showReportLinks(p) {
    const month = p.get('month');
    const links = $('#report-links');
    links.hidden = !month || !REPORT_ROLES.includes(user.role);
    if (links.hidden)
        return;
    const q = 'month=' + encodeURIComponent(month);
    $('#report-html').href = `/api/v1/reports/monthly?${q}&format=html`;
    $('#report-csv').href = `/api/v1/reports/monthly?${q}&format=csv`;
}

function caption(p) {
    if (p.get('month'))
        return monthName(p.get('month'));
    return `${dayName(p.get('from'))} to ${dayName(p.get('to'))} (not included)`;
}

/* --- the headline figures --------------------------------------------------------------- */

// One figure: its label, the value in large type, a line of detail under it.
function figure(key, title, value, detail, cls) {
    return h('div', { class: 'metric' + (cls ? ' ' + cls : '') },
             h('div', { class: 'metric-label' }, title),
             h('div', { class: 'metric-value', dataset: { figure: key } }, value),
             detail ? h('div', { class: 'metric-detail', dataset: { figure: key + '.detail' } },
                        detail) : null);
}

// The clock of first contact or resolution: compliance, breaches, then the times.
function clock(key, title, c, timesOf) {
    return h('section', { class: 'card metric-card metric-clock', id: 'clock-' + key },
             h('h2', {}, title),
             h('div', { class: 'metric-row' },
               figure(key + '.met_pct', 'met', fmtPct(c.met_pct),
                      `${c.met} met · ${c.pending} pending`),
               figure(key + '.breached', 'breached', fmtCount(c.breached), null,
                      c.breached > 0 ? 'metric-bad' : null)),
             h('dl', { class: 'facts metric-times' },
               h('dt', {}, 'median'),
               h('dd', { dataset: { figure: key + '.median' } }, fmtDuration(c.median_seconds)),
               h('dt', {}, '90th percentile'),
               h('dd', { dataset: { figure: key + '.p90' } }, fmtDuration(c.p90_seconds)),
               h('dt', {}, 'longest'),
               h('dd', { dataset: { figure: key + '.max' } }, fmtDuration(c.max_seconds))),
             h('p', { class: 'muted small' }, timesOf));
}

function card(id, title, ...figures) {
    return h('section', { class: 'card metric-card', id },
             h('h2', {}, title), h('div', { class: 'metric-row' }, figures));
}

function headline(t) {
    const v = t.visits;
    const perVisit = v.count > 0 ? `${fmtDuration(60 * v.minutes_on_site / v.count)} per visit`
                                 : 'no visits';
    const p = t.projects || { started: 0, finished: 0, late: 0 };
    return [
        clock('first_contact', 'SLA: first contact', t.first_contact,
              'working time to first contact of the tickets opened'),
        clock('resolution', 'SLA: resolution', t.resolution,
              'working time to resolution of the tickets resolved'),
        card('card-volume', 'Tickets',
             figure('opened', 'opened', fmtCount(t.opened)),
             figure('resolved', 'resolved', fmtCount(t.resolved)),
             figure('backlog_at_end', 'open at the end', fmtCount(t.backlog_at_end))),
        card('card-quality', 'Quality',
             figure('repeats.rate_pct', 'repeat rate', fmtPct(t.repeats.rate_pct),
                    `${t.repeats.count} repeat tickets`),
             figure('reopens.rate_pct', 'reopen rate', fmtPct(t.reopens.rate_pct),
                    `${t.reopens.count} reopened`),
             figure('first_time_fix.rate_pct', 'first-time fix', fmtPct(t.first_time_fix.rate_pct),
                    `${t.first_time_fix.fixed} of ${t.first_time_fix.tickets_with_visits} ` +
                    'with visits')),
        card('card-satisfaction', 'Satisfaction',
             figure('csat.average', 'CSAT (1-5)', fmtNum(t.csat.average, 2),
                    `${t.csat.answers} answers`),
             figure('csat.response_rate_pct', 'survey response', fmtPct(t.csat.response_rate_pct),
                    `${t.csat.responses} of ${t.csat.surveys} surveys`),
             figure('nps.score', 'NPS', fmtNum(t.nps.score, 1),
                    `${t.nps.promoters} promoters · ${t.nps.passives} passives · ` +
                    `${t.nps.detractors} detractors`)),
        card('card-field', 'Field work',
             figure('visits.count', 'visits', fmtCount(v.count)),
             figure('visits.minutes_on_site', 'time on site', fmtDuration(60 * v.minutes_on_site),
                    perVisit),
             figure('projects', 'projects started / finished / late',
                    `${p.started} / ${p.finished} / ${p.late}`, null,
                    p.late > 0 ? 'metric-warn' : null)),
    ];
}

/* --- the groups ------------------------------------------------------------------------- */

const COLUMNS = [
    ['opened', 'Opened', g => fmtCount(g.opened)],
    ['resolved', 'Resolved', g => fmtCount(g.resolved)],
    ['backlog_at_end', 'Open at end', g => fmtCount(g.backlog_at_end)],
    ['first_contact.met_pct', 'First contact met', g => fmtPct(g.first_contact.met_pct)],
    ['first_contact.breached', 'breached', g => fmtCount(g.first_contact.breached)],
    ['resolution.met_pct', 'Resolution met', g => fmtPct(g.resolution.met_pct)],
    ['resolution.breached', 'breached', g => fmtCount(g.resolution.breached)],
    ['resolution.median', 'Median resolution', g => fmtDuration(g.resolution.median_seconds)],
    ['repeats.rate_pct', 'Repeats', g => fmtPct(g.repeats.rate_pct)],
    ['reopens.rate_pct', 'Reopens', g => fmtPct(g.reopens.rate_pct)],
    ['first_time_fix.rate_pct', 'First-time fix', g => fmtPct(g.first_time_fix.rate_pct)],
    ['csat.average', 'CSAT', g => fmtNum(g.csat.average, 2)],
    ['nps.score', 'NPS', g => fmtNum(g.nps.score, 1)],
    ['visits.count', 'Visits', g => fmtCount(g.visits.count)],
];

function groupRow(g, name, cls) {
    const bad = key => (key.endsWith('.breached') && g[key.split('.')[0]].breached > 0) ?
        'num metric-bad' : 'num';
    return h('tr', { class: cls, dataset: { key: g.key === null ? 'null' : (g.key ?? '') } },
             h('th', { scope: 'row', dataset: { col: 'label' } }, name),
             COLUMNS.map(([key, , fmt]) => h('td', { class: bad(key), dataset: { col: key } },
                                             fmt(g))));
}

function groups(by, list, totals) {
    const section = $('#groups-section');
    section.hidden = !by;
    if (!by)
        return;
    $('#groups-title').textContent = BY_TITLES[by] || by;
    const table = $('#groups');
    const head = label(by);
    fill(table.tHead, h('tr', {}, h('th', {}, head[0].toUpperCase() + head.slice(1)),
                        COLUMNS.map(([key, title]) =>
                            h('th', { class: 'num', dataset: { col: key } }, title))));
    // Category and site kind labels are codes (business_centre); names are shown as they are.
    const readable = by === 'category' || by === 'site_kind';
    fill(table.tBodies[0], ...list.map(g => groupRow(g, readable ? label(g.label) : g.label)));
    if (!list.length)
        table.tBodies[0].append(h('tr', {}, h('td', { colspan: COLUMNS.length + 1, class: 'muted' },
                                               'Nothing in this period.')));
    fill(table.tFoot, groupRow({ ...totals, key: 'total' }, 'All', 'metric-total'));
}

/* --- loading ---------------------------------------------------------------------------- */

async function load() {
    const box = $('#problem');
    const results = $('#results');
    const p = choice();
    const query = p.toString();
    history.replaceState(null, '', '?' + query);
    showReportLinks(p);
    $('#period-caption').textContent = caption(p);
    if (inflight)
        inflight.abort();
    const ctl = new AbortController();
    inflight = ctl;
    results.dataset.state = 'loading';
    results.setAttribute('aria-busy', 'true');
    try {
        const data = await api('/metrics?' + query, { signal: ctl.signal });
        if (ctl.signal.aborted)
            return;
        showProblem(box, null);
        fill($('#headline'), ...headline(data.totals));
        groups(data.by, data.groups || [], data.totals);
        results.hidden = false;
        results.dataset.state = 'ready';
    } catch (e) {
        if (e.name === 'AbortError' || ctl.signal.aborted)
            return;
        // No figures of an earlier choice stay on screen under the sentence that refused this one.
        results.hidden = true;
        results.dataset.state = 'error';
        showProblem(box, e);
        if (e.status === 403) {
            $('#controls').hidden = true;
            $('#report-links').hidden = true;
            $('#period-caption').textContent = '';
        }
    } finally {
        if (inflight === ctl) {
            inflight = null;
            results.dataset.query = query;
            results.removeAttribute('aria-busy');
        }
    }
}

// Fill the controls from the address (?month= or ?from=&to=, and ?by=).
function restore() {
    const q = new URLSearchParams(location.search);
    const from = q.get('from');
    const to = q.get('to');
    if (!q.get('month') && (from || to)) {
        $('#mode').value = 'period';
        $('#from').value = from || '';
        $('#to').value = to || '';
        $('#month').value = lastFullMonth();
    } else {
        $('#mode').value = 'month';
        $('#month').value = q.get('month') || lastFullMonth();
    }
    const by = q.get('by');
    if (by && BY_TITLES[by])
        $('#by').value = by;
    showMode();
}

start().then(u => {
    user = u;
    restore();
    $('#controls').addEventListener('submit', ev => { ev.preventDefault(); load(); });
    $('#mode').addEventListener('change', () => {
        showMode();
        // A period starts out as the month shown, so that switching changes nothing yet.
        if ($('#mode').value === 'period' && !$('#from').value && !$('#to').value &&
            /^\d{4}-\d{2}$/.test($('#month').value)) {
            const [y, m] = $('#month').value.split('-').map(Number);
            $('#from').value = `${y}-${pad2(m)}-01`;
            $('#to').value = m === 12 ? `${y + 1}-01-01` : `${y}-${pad2(m + 1)}-01`;
        }
        load();
    });
    $('#month').addEventListener('change', () => { if ($('#month').value) load(); });
    $('#by').addEventListener('change', () => load());
    for (const id of ['#from', '#to'])
        $(id).addEventListener('change', () => { if ($('#from').value && $('#to').value) load(); });
    return load();
}).catch(pageError);
