// SPDX-License-Identifier: MIT
// board_timeline.js - each engineer's day as a row of the board: hours across, the jobs as
// blocks where they are planned, the working hours shaded when fieldd gives them, a line at
// the present moment. A row takes a dropped job (a card of the unassigned list, or a block
// moved from another row) at the time under the pointer, rounded to 15 minutes.

import { h, label } from './ui.js';
import { hm, serverNow } from './board_time.js';

const SNAP_MIN = 15;
let dragging = null;   // the job being dragged: dataTransfer cannot be read during dragover

// Make el a drag source for job.
export function draggableJob(el, job) {
    el.draggable = true;
    el.addEventListener('dragstart', ev => {
        dragging = job;
        ev.dataTransfer.effectAllowed = 'move';
        ev.dataTransfer.setData('text/plain', job.id);
        el.classList.add('dragging');
    });
    el.addEventListener('dragend', () => {
        dragging = null;
        el.classList.remove('dragging');
        document.querySelectorAll('.tl-track.drop-here').forEach(t => t.classList.remove('drop-here'));
    });
}

// Position el along its track (fractions of the day shown). The page's Content Security
// Policy refuses style attributes, so positions are set through the CSSOM.
function at(el, left, width) {
    el.style.left = `${left * 100}%`;
    if (width !== undefined)
        el.style.width = `${width * 100}%`;
    return el;
}

function frac(t, from, span) {
    return Math.min(1, Math.max(0, (t - from) / span));
}

// The hours a day is drawn over: 07:00-20:00, widened to show every job and shift of it.
function hoursOf(day, rows) {
    let lo = 7;
    let hi = 20;
    const dayMs = day.to - day.from;
    for (const r of rows) {
        for (const it of [...r.jobs.map(j => [j.planned_start, j.planned_end]),
                          ...(r.shifts || []).map(s => [s.start, s.end])]) {
            const a = (Date.parse(it[0]) - day.from) / 3600000;
            const b = (Date.parse(it[1]) - day.from) / 3600000;
            if (!isNaN(a) && a < lo)
                lo = Math.max(0, Math.floor(a));
            if (!isNaN(b) && b > hi)
                hi = Math.min(dayMs / 3600000, Math.ceil(b));
        }
    }
    return { lo, hi };
}

// Draw the rows into container. day: {from, to} Dates; rows: [{engineer: {id, name, skills,
// region}, jobs: [...], shifts: [{start, end}]}]; onDrop(job, engineerId, start Date) is
// called for a drop; onOpen(job) for a click on a block; movable: assigned blocks can be
// dragged (the person may assign).
export function drawTimeline(container, day, rows, { onDrop, onOpen, movable }) {
    const { lo, hi } = hoursOf(day, rows);
    const from = day.from.getTime() + lo * 3600000;
    const span = (hi - lo) * 3600000;
    const hours = [];
    for (let x = lo; x < hi; x++)
        hours.push(x);

    const axis = h('div', { class: 'tl-row tl-axis' }, h('div', { class: 'tl-name' }),
                   h('div', { class: 'tl-track' }, hours.map(x => at(h('span', { class: 'tl-hour' },
                       String(x).padStart(2, '0') + ':00'), (x - lo) / (hi - lo)))));
    const now = serverNow();
    const nowFrac = now >= from && now < from + span ? (now - from) / span : null;

    const body = rows.map(r => {
        const track = h('div', { class: 'tl-track', dataset: { engineer: r.engineer.id },
                                 'aria-label': `${r.engineer.name}'s day` });
        for (const x of hours)
            track.append(at(h('span', { class: 'tl-grid' }), (x - lo) / (hi - lo)));
        for (const s of r.shifts || []) {
            const a = frac(Date.parse(s.start), from, span);
            const b = frac(Date.parse(s.end), from, span);
            if (b > a)
                track.append(at(h('div', { class: 'tl-shift', title: `shift ${hm(s.start)}–${hm(s.end)}` }),
                                a, b - a));
        }
        for (const j of r.jobs) {
            const s = Date.parse(j.planned_start);
            const e = Date.parse(j.planned_end);
            const a = frac(s, from, span);
            const b = frac(e, from, span);
            const block = h('div', {
                class: `tl-block tl-${j.status}`, tabindex: '0',
                dataset: { id: j.id, status: j.status },
                title: `${hm(s)}–${hm(e)} ${j.title || label(j.kind)} (${label(j.status)})`,
                onclick: () => onOpen(j),
                onkeydown: ev => { if (ev.key === 'Enter') onOpen(j); },
                'aria-label': `${hm(s)}–${hm(e)} ${j.title || label(j.kind)}, ${label(j.status)}`,
            }, h('span', { class: 'tl-time' }, hm(s)), ' ',
               h('span', { class: 'tl-title' }, j.title || label(j.kind)));
            at(block, a, Math.max(b - a, 0.004));
            if (movable && ['assigned', 'en_route'].includes(j.status))
                draggableJob(block, j);
            track.append(block);
        }
        if (nowFrac !== null)
            track.append(at(h('span', { class: 'tl-now', title: 'now' }), nowFrac));
        const hint = h('span', { class: 'tl-hint', hidden: true });
        track.append(hint);

        const timeAt = ev => {
            const rect = track.getBoundingClientRect();
            const f = Math.min(1, Math.max(0, (ev.clientX - rect.left) / rect.width));
            const snap = SNAP_MIN * 60000;
            return new Date(Math.round((from + f * span) / snap) * snap);
        };
        track.addEventListener('dragover', ev => {
            if (!dragging)
                return;
            ev.preventDefault();
            ev.dataTransfer.dropEffect = 'move';
            track.classList.add('drop-here');
            const t = timeAt(ev);
            hint.hidden = false;
            hint.textContent = hm(t);
            at(hint, frac(t.getTime(), from, span));
        });
        track.addEventListener('dragleave', () => {
            track.classList.remove('drop-here');
            hint.hidden = true;
        });
        track.addEventListener('drop', ev => {
            ev.preventDefault();
            track.classList.remove('drop-here');
            hint.hidden = true;
            const job = dragging;
            dragging = null;
            if (job)
                onDrop(job, r.engineer.id, timeAt(ev));
        });

        const e = r.engineer;
        const load = r.jobs.length ? `${r.jobs.length} job${r.jobs.length > 1 ? 's' : ''}` : 'free';
        const active = r.jobs.find(j => ['en_route', 'on_site'].includes(j.status));
        return h('div', { class: 'tl-row', dataset: { engineer: e.id } },
                 h('div', { class: 'tl-name' }, h('strong', {}, e.name),
                   active ? h('span', { class: 'tl-now-doing small' },
                              `${label(active.status)}: ${active.title || label(active.kind)}`) : null,
                   h('span', { class: 'muted small' },
                     [load, e.region, (e.skills || []).join(', ')].filter(Boolean).join(' · '))),
                 track);
    });
    container.replaceChildren(axis, ...body);
}
