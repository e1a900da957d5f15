// SPDX-License-Identifier: MIT
// jobs.js - the jobs list: an engineer's own jobs (fieldd shows an engineer nothing else),
// everyone else's view of all jobs, soonest first within the page, filtered by status and kind.

import { api } from './api.js';
import { $, h, badge, fmtTime, label, showProblem, start, pageError } from './ui.js';
import { siteName, ticket } from './names.js';

let user;
let cursor = null;

function query() {
    const p = new URLSearchParams({ limit: '50' });
    const status = $('#status').value;
    const kind = $('#kind').value;
    if (status)
        p.set('status', status);
    if (kind)
        p.set('kind', kind);
    const when = $('#when').value;
    if (when) {
        // Days of the browser's zone: the engineer's own day on site.
        const from = new Date();
        from.setHours(0, 0, 0, 0);
        const to = new Date(from);
        to.setDate(to.getDate() + (when === 'today' ? 1 : 7));
        p.set('from', from.toISOString());
        p.set('to', to.toISOString());
    }
    if (cursor)
        p.set('cursor', cursor);
    return '/jobs?' + p;
}

function row(job) {
    const siteCell = h('td', {}, '…');
    siteName(job.site_id).then(n => { siteCell.textContent = n; });
    const title = h('a', { href: '/ui/job.html?id=' + job.id, class: 'job-link' },
                    job.title || label(job.kind));
    const sub = h('div', { class: 'muted' });
    if (job.ticket_id)
        ticket(job.ticket_id).then(t => { if (t) sub.textContent = `#${t.number ?? ''} ${t.subject}`; });
    return h('tr', { dataset: { id: job.id } },
             h('td', {}, fmtTime(job.planned_start || job.window_start)),
             h('td', {}, title, sub), h('td', {}, label(job.kind)), siteCell,
             h('td', {}, badge(job.status)));
}

async function load(append) {
    const box = $('#problem');
    showProblem(box, null);
    if (!append)
        cursor = null;
    try {
        const page = await api(query());
        const body = $('#jobs tbody');
        if (!append)
            body.replaceChildren();
        const items = [...page.items].sort((a, b) =>
            String(a.planned_start || '').localeCompare(String(b.planned_start || '')));
        items.forEach(j => body.append(row(j)));
        cursor = page.next_cursor;
        $('#more').hidden = !cursor;
        $('#empty').hidden = body.children.length > 0;
    } catch (e) {
        showProblem(box, e);
    }
}

start().then(u => {
    user = u;
    if (user.role === 'engineer') {
        $('#title').textContent = 'My jobs';
        document.title = 'My jobs - acsfield';
    }
    $('#status').addEventListener('change', () => load(false));
    $('#kind').addEventListener('change', () => load(false));
    $('#when').addEventListener('change', () => load(false));
    $('#more').addEventListener('click', () => load(true));
    return load(false);
}).catch(pageError);
