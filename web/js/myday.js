// SPDX-License-Identifier: MIT
// myday.js - the engineer's "my day": the shift, then each job of the day in order with its
// time, site and address, ticket and status, the next one marked, its next step ("On my
// way", "Arrived on site") at hand and a link to the job page. Kept current by the live
// stream and a refresh every minute.

import { api, stream } from './api.js';
import { $, h, badge, label, param, showProblem, start, pageError } from './ui.js';
import { ticket } from './names.js';
import { ymd, dayBounds, addDays, hm, dayName, minutesText } from './board_time.js';

let user;
let day = ymd(new Date());
let timer = null;

// GET /engineers/me/day: the jobs of the local day in start order, each with its site and
// ticket; the shifts and absences as instants (docs/dispatch.md, "Engineers").
async function dayFromApi() {
    const res = await api('/engineers/me/day?date=' + day);
    const interval = x => ({ ...x, start: x.starts_at || x.start, end: x.ends_at || x.end });
    return { jobs: res.jobs || [], shifts: (res.shifts || []).map(interval),
             absences: (res.absences || []).map(interval) };
}

function siteLine(s) {
    return h('span', {}, h('strong', {}, s.name), s.address ? ` · ${s.address}` : null,
             s.access_notes ? h('div', { class: 'muted small' }, 'Access: ' + s.access_notes) : null);
}

function stop(job, next) {
    // The day's answer carries the site and the ticket; the ticket's category comes from
    // the ticket itself.
    const where = h('div', { class: 'stop-site' }, job.site ? siteLine(job.site) : null);
    const tk = h('div', { class: 'muted' });
    if (job.ticket) {
        tk.replaceChildren(`#${job.ticket.number ?? ''} ${job.ticket.subject || ''}`);
        ticket(job.ticket.id).then(t => {
            if (t)
                tk.replaceChildren(badge(t.category), ' ', `#${t.number ?? ''} ${t.subject}`);
        });
    }
    return h('li', { class: `stop stop-${job.status}` + (next ? ' next' : ''),
                     dataset: { id: job.id, status: job.status } },
             h('div', {}, h('div', { class: 'when' }, `${hm(job.planned_start)}–${hm(job.planned_end)}`),
               badge(job.status), next ? h('div', { class: 'next-flag' }, 'next') : null),
             h('div', {},
               h('a', { class: 'stop-title job-link', href: '/ui/job.html?id=' + job.id },
                 job.title || `${label(job.kind)} job`),
               h('span', { class: 'muted small' }, ' ', label(job.kind)),
               where, tk,
               job.window_start || job.window_end
                   ? h('div', { class: 'small' }, `client's window ${hm(job.window_start)}–${hm(job.window_end)}`)
                   : null,
               (job.required_skills || []).length
                   ? h('div', { class: 'small muted' }, 'skills: ' + job.required_skills.join(', ')) : null,
               job.notes ? h('div', { class: 'small' }, job.notes) : null,
               actions(job)));
}

// The next step of a job, from the day itself: "On my way", "Arrived on site", then the job
// page for the diagnostics and the outcome.
const STEP = { assigned: ['en_route', 'On my way'], en_route: ['on_site', 'Arrived on site'] };

function actions(job) {
    if (user.role !== 'engineer')
        return null;
    const box = h('div', { class: 'actions' });
    const problem = h('p', { class: 'problem', hidden: true });
    const step = STEP[job.status];
    if (step) {
        const button = h('button', { type: 'button', class: 'act-' + step[0] }, step[1]);
        button.addEventListener('click', async () => {
            button.disabled = true;
            showProblem(problem, null);
            try {
                await api(`/jobs/${job.id}/${step[0]}`, { method: 'POST' });
                await load();
            } catch (e) {
                button.disabled = false;
                showProblem(problem, e);
            }
        });
        box.append(button);
    }
    if (['on_site', 'en_route'].includes(job.status))
        box.append(h('a', { href: '/ui/job.html?id=' + job.id, class: 'job-open' },
                     job.status === 'on_site' ? 'Diagnostics and outcome' : 'Open the job'));
    return h('div', {}, box, problem);
}

async function load() {
    const box = $('#problem');
    showProblem(box, null);
    let data;
    try {
        data = await dayFromApi();
    } catch (e) {
        showProblem(box, e);
        return;
    }
    const jobs = data.jobs.filter(j => j.planned_start && j.status !== 'cancelled')
        .sort((a, b) => String(a.planned_start).localeCompare(String(b.planned_start)));
    const items = [];
    const next = jobs.find(j => ['assigned', 'en_route', 'on_site'].includes(j.status));
    for (const j of jobs) {
        if (j.travel_s)
            items.push(h('li', { class: 'travel' }, `${minutesText(j.travel_s)} travel`));
        items.push(stop(j, j === next));
    }
    $('#stops').replaceChildren(...items);
    $('#empty').hidden = jobs.length > 0;
    const shifts = data.shifts.map(s => `${hm(s.start)}–${hm(s.end)}`);
    const absences = data.absences.map(a => `${label(a.kind || 'absent')} ${hm(a.start)}–${hm(a.end)}`);
    $('#shift').textContent = [shifts.length ? 'Shift ' + shifts.join(', ') : '',
                               absences.length ? absences.join(', ') : '',
                               `${jobs.length} job${jobs.length === 1 ? '' : 's'}`]
        .filter(Boolean).join(' · ');
    $('#updated').textContent = 'Updated ' + hm(new Date());
}

function setDay(d) {
    day = d;
    $('#day').value = day;
    $('#title').textContent = day === ymd(new Date()) ? 'My day' : `My day: ${dayName(dayBounds(day).from)}`;
    const u = new URL(location.href);
    u.searchParams.set('day', day);
    history.replaceState(null, '', u);
    load();
}

function refreshSoon() {
    clearTimeout(timer);
    timer = setTimeout(load, 300);
}

start().then(u => {
    user = u;
    const asked = param('day');
    $('#day').addEventListener('change', () => { if ($('#day').value) setDay($('#day').value); });
    $('#day-prev').addEventListener('click', () => setDay(addDays(day, -1)));
    $('#day-next').addEventListener('click', () => setDay(addDays(day, 1)));
    $('#day-today').addEventListener('click', () => setDay(ymd(new Date())));
    setDay(asked && /^\d{4}-\d{2}-\d{2}$/.test(asked) ? asked : day);
    const handlers = {};
    for (const n of ['job_created', 'job_assigned', 'job_status', 'job_changed'])
        handlers[n] = ev => {
            if (!ev.engineer_id || ev.engineer_id === user.id || ev.previous_engineer_id === user.id)
                refreshSoon();
        };
    stream('/events', handlers);
    setInterval(load, 60000);
}).catch(pageError);
