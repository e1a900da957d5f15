// SPDX-License-Identifier: MIT
// board.js - the dispatcher's board: tickets at risk with live SLA countdowns, the jobs not
// assigned yet (with fieldd's suggestions of who could go), each engineer's day as a
// timeline that takes a job by drag and drop, the day plan preview, the projects at risk,
// and the live stream (Server-Sent Events) that keeps it all current without a reload.

import { api, stream } from './api.js';
import { $, h, badge, label, param, showProblem, start, pageError } from './ui.js';
import { siteName, ticket } from './names.js';
import { ymd, dayBounds, addDays, hm, dayName, minutesText, countdownText, syncServerNow,
         serverNow } from './board_time.js';
import { drawTimeline, draggableJob } from './board_timeline.js';
import { initAssign, setEngineers, attempt, openAssign, engineerName, reasonText } from './board_assign.js';

let user;
let day = ymd(new Date());
let engineers = [];            // [{id, name, skills, region, ...}]
let riskItems = [];
const knownJobs = new Map();   // job id -> the job as last listed (names for the live feed)
const openJobs = new Map();    // ticket id -> an open job of it
let mayAssign = false;
const warnedNow = new Map();   // ticket id -> the live event that just arrived for it
const timers = {};

// --- small things ------------------------------------------------------------------------

function jobName(job) {
    return job.title || `${label(job.kind)} job`;
}

function notify(text) {
    const n = $('#notice');
    n.hidden = false;
    n.textContent = text;
}

function items(res) {
    return (res && res.items) || [];
}

async function allPages(path, max = 5) {
    const out = [];
    let cursor = null;
    for (let i = 0; i < max; i++) {
        const page = await api(path + (cursor ? '&cursor=' + encodeURIComponent(cursor) : ''));
        out.push(...items(page));
        cursor = page.next_cursor;
        if (!cursor)
            break;
    }
    return out;
}

// Run fn once after ms, however often it is asked for meanwhile.
function soon(name, fn, ms = 250) {
    clearTimeout(timers[name]);
    timers[name] = setTimeout(() => fn().catch(e => showProblem($('#problem'), e)), ms);
}

// --- tickets at risk -----------------------------------------------------------------------

// The clock of an at-risk item that falls due at next_due.
function dueClock(item) {
    const sla = item.sla || {};
    const due = Date.parse(item.next_due);
    for (const name of ['first_contact', 'resolution']) {
        const c = sla[name];
        if (c && c.due && Date.parse(c.due) === due && !c.met_at)
            return { name, clock: c };
    }
    const fc = sla.first_contact;
    return fc && !fc.met_at && fc.due ? { name: 'first_contact', clock: fc }
                                       : { name: 'resolution', clock: sla.resolution || {} };
}

function riskState(item, clock, live) {
    if (clock.breached || clock.breached_at || (live && live.event === 'sla_breach'))
        return 'breach';
    if (clock.warned_at || (live && live.event === 'sla_warning'))
        return 'warning';
    return 'ok';
}

function riskCard(item) {
    const { name, clock } = dueClock(item);
    // A live event counts for the clock it is about, until the list reflects it.
    const ev = warnedNow.get(item.id);
    const live = ev && ev.clock === name ? ev : null;
    const st = riskState(item, clock, live);
    const due = Date.parse(item.next_due);
    const subject = h('div', { class: 'risk-subject' }, `#${item.number ?? ''} ${item.subject || ''}`);
    const site = h('span', { class: 'muted' }, '');
    siteName(item.site_id).then(n => { site.textContent = n; });
    const flash = live && Date.now() - live.seen < 10000;
    return h('li', { class: 'risk' + (flash ? ' flash' : ''),
                     dataset: { ticket: item.id, state: st, clock: name } },
             h('div', { class: 'countdown', dataset: { due: String(due) } },
               countdownText((due - serverNow()) / 1000)),
             h('div', { class: 'risk-body' }, subject,
               h('div', { class: 'risk-meta' }, badge(item.category),
                 h('span', {}, `${label(name)} due ${hm(item.next_due)}`),
                 st === 'ok' ? null : h('span', { class: 'badge risk-flag' },
                                         st === 'breach' ? 'breached' : 'warning'),
                 site),
               jobLine(item)));
}

// What is being done about a ticket at risk: its open job (who, when), or a button that
// creates a visit for it, which then waits in the unassigned list with its suggestions open.
function jobLine(item) {
    const job = openJobs.get(item.id);
    if (job) {
        return h('div', { class: 'risk-job small' }, job.engineer_id
            ? `${label(job.status)}: ${engineerName(job.engineer_id)} ${dayName(job.planned_start)} ${hm(job.planned_start)}`
            : 'job waiting to be assigned');
    }
    if (!mayAssign)
        return h('div', { class: 'risk-job small muted' }, 'no job yet');
    const button = h('button', { type: 'button', class: 'secondary create-visit' }, 'Create a visit');
    button.addEventListener('click', () => createVisit(item, button));
    return h('div', { class: 'risk-job small' }, h('span', { class: 'muted' }, 'no job yet '), button);
}

async function createVisit(item, button) {
    button.disabled = true;
    try {
        const job = await api('/jobs', { method: 'POST', body: {
            kind: 'visit', site_id: item.site_id, ticket_id: item.id, title: item.subject,
            priority: item.category === 'emergency' ? 1 : 3 } });
        notify(`A visit for #${item.number} was created: assign it from the unassigned jobs.`);
        await Promise.all([loadUnassigned(), loadRisk()]);
        const card = document.querySelector(`#unassigned li[data-id="${job.id}"]`);
        if (card) {
            card.scrollIntoView({ block: 'nearest' });
            card.querySelector('.suggest-button').click();
        }
    } catch (e) {
        button.disabled = false;
        showProblem($('#problem'), e);
    }
}

// The open jobs of the tickets at risk (the most recent 200 open jobs), by ticket.
async function loadOpenJobs() {
    const page = await api('/jobs?status=planned,assigned,en_route,on_site&limit=200');
    openJobs.clear();
    for (const j of page.items || []) {
        if (j.ticket_id && !openJobs.has(j.ticket_id))
            openJobs.set(j.ticket_id, j);
    }
}

async function loadRisk() {
    const [res] = await Promise.all([api('/sla/at-risk?limit=50'), loadOpenJobs()]);
    syncServerNow(res.now);
    riskItems = res.items || [];
    const list = $('#risk-list');
    list.replaceChildren(...riskItems.map(riskCard));
    $('#risk-count').textContent = riskItems.length ? String(riskItems.length) : '';
    $('#risk-empty').hidden = riskItems.length > 0;
    tick();
}

function tick() {
    const now = serverNow();
    for (const el of document.querySelectorAll('.countdown[data-due]')) {
        const left = (Number(el.dataset.due) - now) / 1000;
        el.textContent = countdownText(left);
        el.classList.toggle('overdue', left < 0);
        el.classList.toggle('soon', left >= 0 && left < 900);
        el.classList.toggle('long', Math.abs(left) >= 3600);
    }
}

// --- unassigned jobs and suggestions -------------------------------------------------------

// One of fieldd's suggestions (docs/dispatch.md, "Suggestions for one job").
function suggestionOf(s, job) {
    const startAt = new Date(s.start);
    const endAt = s.end ? new Date(s.end)
                        : new Date(startAt.getTime() + (job.duration_min || 60) * 60000);
    const name = s.name || engineerName(s.engineer_id);
    const text = s.sentence || `${name}: starts ${hm(startAt)}` +
        (s.travel_s !== undefined ? ` (${minutesText(s.travel_s)} travel)` : '');
    return { engineerId: s.engineer_id, name, start: startAt, end: endAt, text };
}

async function showSuggestions(job, box, button) {
    button.disabled = true;
    box.hidden = false;
    box.replaceChildren(h('li', { class: 'muted' }, 'Asking fieldd who could go…'));
    try {
        const res = await api(`/jobs/${job.id}/suggestions`);
        const list = (res.suggestions || []).map(s => suggestionOf(s, job))
            .filter(s => s.engineerId && !isNaN(s.start));
        if (!list.length) {
            box.replaceChildren(h('li', { class: 'muted no-suggestion' },
                'fieldd finds no engineer who can take this job in the next 7 days (skills, ' +
                'region, shifts, free time)'));
            return;
        }
        box.replaceChildren(...list.map((s, i) => h('li', { class: 'suggestion',
                                                           dataset: { engineer: s.engineerId } },
            h('span', { class: 'rank' }, String(i + 1)),
            h('span', { class: 'suggestion-text' }, s.text),
            h('button', { type: 'button', class: 'suggestion-assign',
                          onclick: () => attempt(job, s.engineerId, s.start, s.end) },
              ymd(s.start) === ymd(new Date()) ? `Assign ${hm(s.start)}`
                                                : `Assign ${dayName(s.start)} ${hm(s.start)}`))));
    } catch (e) {
        box.replaceChildren(h('li', { class: 'problem' }, e.message));
    } finally {
        button.disabled = false;
    }
}

function stamp(job) {
    return job.updated_at || JSON.stringify(job);
}

function jobCard(job) {
    const tk = h('div', { class: 'muted' });
    const site = h('span', {}, '…');
    siteName(job.site_id).then(n => { site.textContent = n; });
    if (job.ticket_id) {
        ticket(job.ticket_id).then(t => {
            if (t)
                tk.replaceChildren(badge(t.category), ' ', `#${t.number ?? ''} ${t.subject}`);
        });
    }
    const facts = [`priority ${job.priority ?? 3}`, `${job.duration_min || 60} min`];
    if (job.window_start || job.window_end)
        facts.push(`window ${job.window_start ? dayName(job.window_start) + ' ' + hm(job.window_start) : '…'}` +
                   `–${job.window_end ? hm(job.window_end) : '…'}`);
    if ((job.required_skills || []).length)
        facts.push(job.required_skills.join(', '));
    const box = h('ul', { class: 'suggestions', hidden: true });
    const sugg = h('button', { type: 'button', class: 'secondary suggest-button' }, 'Suggestions');
    sugg.addEventListener('click', () => showSuggestions(job, box, sugg));
    const manual = h('button', { type: 'button', class: 'secondary assign-button',
                                 onclick: () => {
                                     const { from } = dayBounds(day);
                                     const s = new Date(from.getTime() + 9 * 3600000);
                                     openAssign(job, engineers[0] && engineers[0].id, s,
                                                new Date(s.getTime() + (job.duration_min || 60) * 60000));
                                 } }, 'Assign…');
    const card = h('li', { class: `job-card prio-${job.priority ?? 3}`,
                           dataset: { id: job.id, stamp: stamp(job) } },
                   h('div', { class: 'job-card-head' },
                     h('span', { class: 'grip', 'aria-hidden': 'true' }, '⠿'),
                     h('a', { href: '/ui/job.html?id=' + job.id, class: 'job-link' }, jobName(job)),
                     h('span', { class: 'muted small' }, label(job.kind))),
                   tk, h('div', { class: 'small' }, site, ' · ', facts.join(' · ')),
                   h('div', { class: 'actions' }, sugg, manual), box);
    if (mayAssign)
        draggableJob(card, job);
    return card;
}

async function loadUnassigned() {
    const jobs = await allPages('/jobs?status=planned&limit=200', 3);
    jobs.sort((a, b) => (a.priority ?? 3) - (b.priority ?? 3) ||
        String(a.window_start || a.created_at || '').localeCompare(String(b.window_start || b.created_at || '')));
    jobs.forEach(j => knownJobs.set(j.id, j));
    // A card whose job did not change stays as it is, with its suggestions open.
    const old = new Map([...$('#unassigned').children].map(li => [li.dataset.id, li]));
    $('#unassigned').replaceChildren(...jobs.map(j => {
        const card = old.get(j.id);
        return card && card.dataset.stamp === stamp(j) ? card : jobCard(j);
    }));
    $('#unassigned-count').textContent = jobs.length ? String(jobs.length) : '';
    $('#unassigned-empty').hidden = jobs.length > 0;
}

// --- engineers' days -----------------------------------------------------------------------

// Active engineers and seniors, by name (GET /engineers).
async function loadEngineers() {
    engineers = items(await api('/engineers')).filter(e => e.active !== false);
}

// The working hours of each engineer on the day shown (GET /engineers/{id}/day), as
// {start, end}; none for an engineer without shifts.
// One request per engineer: fine for a team of dozens, not for hundreds.
const shiftCache = { date: null, at: 0, shifts: null };

async function dayShifts(bounds) {
    const out = new Map();
    if (engineers.length > 60)
        return out;
    const date = ymd(bounds.from);
    // Shifts change rarely: assignments reload the days often, the shifts every 5 minutes.
    if (shiftCache.date === date && Date.now() - shiftCache.at < 300000 &&
        engineers.every(e => shiftCache.shifts.has(e.id)))
        return shiftCache.shifts;
    await Promise.all(engineers.map(async e => {
        try {
            const d = await api(`/engineers/${e.id}/day?date=${date}`);
            out.set(e.id, (d.shifts || []).map(x => ({ start: x.starts_at || x.start,
                                                       end: x.ends_at || x.end })));
        } catch (err) {
            if (err.status !== 404)
                throw err;
            out.set(e.id, []);   // deactivated meanwhile
        }
    }));
    Object.assign(shiftCache, { date, at: Date.now(), shifts: out });
    return out;
}

async function loadDay() {
    const bounds = dayBounds(day);
    const q = new URLSearchParams({ from: bounds.from.toISOString(), to: bounds.to.toISOString(),
                                    limit: '200' });
    const jobs = (await allPages('/jobs?' + q)).filter(j => j.engineer_id && j.planned_start &&
                                                            j.status !== 'cancelled');
    setEngineers(engineers);
    jobs.forEach(j => knownJobs.set(j.id, j));
    const shifts = await dayShifts(bounds);
    const rows = engineers.map(e => ({
        engineer: e,
        jobs: jobs.filter(j => j.engineer_id === e.id)
            .sort((a, b) => String(a.planned_start).localeCompare(String(b.planned_start))),
        shifts: shifts.get(e.id) || [],
    }));
    $('#timeline-day').textContent = dayName(bounds.from);
    $('#timeline-empty').hidden = rows.length > 0;
    drawTimeline($('#timeline'), bounds, rows, {
        movable: mayAssign,
        onDrop(job, engineerId, at) {
            const minutes = job.planned_start && job.planned_end
                ? (Date.parse(job.planned_end) - Date.parse(job.planned_start)) / 60000
                : (job.duration_min || 60);
            attempt(job, engineerId, at, new Date(at.getTime() + minutes * 60000));
        },
        onOpen(job) {
            location.assign('/ui/job.html?id=' + job.id);
        },
    });
}

// --- projects at risk and the day plan ----------------------------------------------------

async function loadProjects() {
    let list;
    try {
        list = items(await api('/projects/at-risk'));
    } catch (e) {
        if ([403, 404].includes(e.status)) {
            $('#projects-card').hidden = true;
            return;
        }
        throw e;
    }
    $('#projects-card').hidden = false;
    $('#projects').replaceChildren(...list.map(p => {
        const site = h('span', { class: 'muted' });
        siteName(p.site_id).then(n => { site.textContent = n; });
        return h('li', { class: 'project', dataset: { id: p.id } },
                 h('strong', {}, p.name || 'project'), ' ', p.stage ? badge(p.stage) : null, ' ', site,
                 h('ul', { class: 'reasons' }, (p.risks || []).map(r =>
                     h('li', { class: 'reason warning', dataset: { code: r.code || '' } }, reasonText(r)))));
    }));
    if (!list.length)
        $('#projects').replaceChildren(h('li', { class: 'muted' }, 'No project is at risk.'));
}

let preview = null;

// POST /dispatch/plan over the day shown: every planned, unassigned job of it spread over the
// engineers (docs/dispatch.md); nothing changes until the dispatcher accepts.
async function planPreview() {
    const box = $('#plan-problem');
    showProblem(box, null);
    const bounds = dayBounds(day);
    $('#plan-card').hidden = false;
    $('#plan-accept').disabled = true;
    $('#plan-body').replaceChildren(h('p', { class: 'muted' }, 'Planning…'));
    try {
        preview = await api('/dispatch/plan', { method: 'POST',
            body: { from: bounds.from.toISOString(), to: bounds.to.toISOString() } });
    } catch (e) {
        preview = null;
        $('#plan-body').replaceChildren();
        showProblem(box, e.status === 404 ? new Error('This fieldd has no day plan yet.') : e);
        return;
    }
    const routes = (preview.routes || []).filter(r => (r.stops || []).some(s => !s.fixed));
    const left = preview.unassigned || [];
    const stop = s => h('li', { class: s.fixed ? 'muted' : 'planned', dataset: { job: s.job_id } },
        `${hm(s.start)}–${hm(s.end)} `, s.name || 'job', s.fixed ? ' (already booked)' : null,
        s.travel_s ? h('span', { class: 'muted' }, ` · ${minutesText(s.travel_s)} travel`) : null,
        s.lateness_s ? h('span', { class: 'late' }, ` · ${minutesText(s.lateness_s)} late`) : null);
    if (!preview.jobs) {
        $('#plan-body').replaceChildren(h('p', { class: 'muted' },
            `No unassigned job to plan on ${dayName(bounds.from)}.`));
        return;
    }
    $('#plan-body').replaceChildren(h('div', {},
        h('p', {}, `${preview.planned ?? 0} of ${preview.jobs ?? 0} jobs planned` +
          (preview.travel_s ? `, ${minutesText(preview.travel_s)} travel` : '') +
          (preview.late ? `, ${preview.late} late` : '') + '.'),
        ...routes.map(r => h('div', { class: 'plan-route', dataset: { engineer: r.engineer_id } },
            h('h3', {}, r.name || engineerName(r.engineer_id)),
            h('ol', {}, (r.stops || []).map(stop)))),
        left.length ? h('div', { class: 'plan-left' }, h('h3', {}, 'Left out'),
            h('ul', {}, left.map(l => h('li', { dataset: { job: l.job_id } },
                                         `${l.name || 'job'}: ${reasonText(l)}`)))) : null));
    $('#plan-accept').disabled = !(preview.assignments || []).length;
}

async function planAccept() {
    const box = $('#plan-problem');
    showProblem(box, null);
    if (!preview || !(preview.assignments || []).length)
        return;
    try {
        const res = await api('/dispatch/plan/accept', { method: 'POST',
                                                          body: { assignments: preview.assignments } });
        const refused = (res.results || []).filter(x => x.result !== 'assigned');
        preview = null;
        if (refused.length) {
            $('#plan-body').replaceChildren(h('ul', { class: 'reasons' },
                refused.map(x => h('li', {}, x.detail || reasonText(x.reasons && x.reasons[0])))));
            $('#plan-accept').disabled = true;
        } else {
            $('#plan-card').hidden = true;
        }
        notify(`The plan was accepted: ${res.assigned} job${res.assigned === 1 ? '' : 's'} assigned` +
               (refused.length ? `, ${refused.length} refused (the days changed meanwhile).` : '.'));
        await Promise.all([loadUnassigned(), loadDay(), loadRisk()]);
    } catch (e) {
        showProblem(box, e);
    }
}

// --- live events ---------------------------------------------------------------------------

function feed(kind, text, dataset) {
    const li = h('li', { class: 'feed-item ' + kind, dataset: { event: kind, ...dataset } },
                 h('time', {}, hm(new Date(serverNow()))), ' ', text);
    const list = $('#feed');
    list.prepend(li);
    while (list.children.length > 50)
        list.lastChild.remove();
}

async function onSla(ev) {
    warnedNow.set(ev.ticket_id, { ...ev, seen: Date.now() });
    const card = document.querySelector(`#risk-list li[data-ticket="${ev.ticket_id}"]`);
    const what = ev.event === 'sla_breach' ? 'SLA breached' : 'SLA warning';
    let t = riskItems.find(i => i.id === ev.ticket_id);
    if (!t)
        t = await ticket(ev.ticket_id).catch(() => null);
    feed(ev.event, `${what}: #${t ? t.number : '?'} ${t ? t.subject : ev.ticket_id}, ` +
         `${label(ev.clock)} due ${hm(ev.due)}`, { ticket: ev.ticket_id });
    if (card && card.dataset.clock === ev.clock) {
        card.dataset.state = ev.event === 'sla_breach' ? 'breach' : 'warning';
        card.classList.add('flash');
    }
    soon('risk', loadRisk);
}

function onJobEvent(ev) {
    const name = ev.event || 'job';
    const job = knownJobs.get(ev.job_id);
    const title = job ? jobName(job) : ev.title || 'a job';
    let text;
    if (name === 'job_assigned') {
        text = `Assigned: ${title} → ${engineerName(ev.engineer_id)}` +
            (ev.planned_start ? ` ${dayName(ev.planned_start)} ${hm(ev.planned_start)}` : '') +
            (ev.override ? ' (rules overridden)' : '');
    } else {
        text = [label(name), title, ev.status ? `→ ${label(ev.status)}` : null,
                ev.engineer_id ? `(${engineerName(ev.engineer_id)})` : null].filter(Boolean).join(' ');
    }
    feed(name, text, { job: ev.job_id || '' });
    soon('jobs', () => Promise.all([loadUnassigned(), loadDay()]));
    soon('risk', loadRisk);
}

function onTicketEvent(ev) {
    const name = ev.event || 'ticket';
    feed(name, [label(name), ev.number ? `#${ev.number}` : null, ev.subject].filter(Boolean).join(' '),
         { ticket: ev.ticket_id || ev.id || '' });
    soon('risk', loadRisk);
    soon('jobs', () => Promise.all([loadUnassigned(), loadDay()]));
}

function connect() {
    const stateEl = $('#live-state');
    const set = (s, text) => { stateEl.dataset.state = s; stateEl.textContent = text; };
    const handlers = { sla_warning: onSla, sla_breach: onSla };
    for (const n of ['job_created', 'job_assigned', 'job_status', 'job_changed', 'engineer_status'])
        handlers[n] = onJobEvent;
    for (const n of ['ticket_created', 'ticket_status', 'ticket_changed'])
        handlers[n] = onTicketEvent;
    const es = stream('/events', handlers, () => set('down', 'reconnecting…'));
    let opened = false;
    es.onopen = () => {
        set('live', 'live');
        // Whatever happened while the stream was down.
        if (opened)
            soon('all', loadAll);
        opened = true;
    };
    return es;
}

// --- the page ------------------------------------------------------------------------------

async function loadAll() {
    showProblem($('#problem'), null);
    await loadEngineers();
    await Promise.all([loadRisk(), loadUnassigned(), loadDay(), loadProjects()]);
}

function setDay(d) {
    day = d;
    $('#day').value = day;
    const u = new URL(location.href);
    u.searchParams.set('day', day);
    history.replaceState(null, '', u);
    soon('day', loadDay, 0);
}

start().then(async u => {
    user = u;
    if (user.role === 'engineer') {
        location.replace('/ui/myday.html');
        return;
    }
    const asked = param('day');
    if (asked && /^\d{4}-\d{2}-\d{2}$/.test(asked))
        day = asked;
    $('#day').value = day;
    $('#day').addEventListener('change', () => { if ($('#day').value) setDay($('#day').value); });
    $('#day-prev').addEventListener('click', () => setDay(addDays(day, -1)));
    $('#day-next').addEventListener('click', () => setDay(addDays(day, 1)));
    $('#day-today').addEventListener('click', () => setDay(ymd(new Date())));
    $('#plan-preview').addEventListener('click', planPreview);
    $('#plan-accept').addEventListener('click', planAccept);
    $('#plan-close').addEventListener('click', () => { $('#plan-card').hidden = true; preview = null; });
    mayAssign = ['admin', 'dispatcher'].includes(user.role);
    document.body.classList.toggle('read-only', !mayAssign);
    initAssign({
        notify,
        onAssigned: () => Promise.all([loadUnassigned(), loadDay(), loadRisk()])
            .catch(e => showProblem($('#problem'), e)),
    });
    await loadAll();
    connect();
    setInterval(tick, 1000);
    // Changes that the live stream does not carry (new tickets, engineers' status) within a
    // minute; the SLA events come at once.
    setInterval(() => soon('all', loadAll), 60000);
}).catch(pageError);
