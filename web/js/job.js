// SPDX-License-Identifier: MIT
// job.js - one job: its facts, lifecycle buttons and outcome, its ticket and site;
// diagnostics (the transport form, live progress over Server-Sent Events with a Stop button,
// findings as they come), the sessions run for it, the reviewer's verdict and the
// commissioning checklist (manual items ticked with a note, a senior's override).

import { api, stream, ApiError } from './api.js';
import { $, h, badge, fill, fmtTime, fmtValue, label, param, showProblem, start, pageError } from './ui.js';
import { site, ticket, device } from './names.js';
import { sessionRow, verdictText, findingItem, describeEvent, LIVE_EVENTS } from './diag.js';

const id = param('id');
let user;
let job;
let live = null;
let watching = null; // the id of the session shown in the live panel

const ACTIONS = {
    planned: ['cancel'],
    assigned: ['en_route', 'on_site', 'cancel'],
    en_route: ['on_site', 'cancel'],
    on_site: ['done', 'needs_revisit'],
};
const ACTION_TEXT = { en_route: 'On my way', on_site: 'Arrived on site', done: 'Done',
                      needs_revisit: 'Needs revisit', cancel: 'Cancel job' };

function facts(dl, pairs) {
    fill(dl);
    for (const [k, v] of pairs) {
        if (v === null || v === undefined || v === '')
            continue;
        dl.append(h('dt', {}, k), h('dd', {}, v));
    }
}

function drawJob() {
    $('#title').textContent = job.title || `${label(job.kind)} job`;
    document.title = `${$('#title').textContent} - acsfield`;
    facts($('#facts'), [
        ['Status', badge(job.status)], ['Kind', label(job.kind)],
        ['Planned', job.planned_start ? `${fmtTime(job.planned_start)} – ${fmtTime(job.planned_end)}` : null],
        ['Window', job.window_start ? `${fmtTime(job.window_start)} – ${fmtTime(job.window_end)}` : null],
        ['Arrived', job.arrived_at ? fmtTime(job.arrived_at) : null],
        ['Finished', job.finished_at ? fmtTime(job.finished_at) : null],
        ['Skills', (job.required_skills || []).join(', ')], ['Notes', job.notes],
        ['Outcome', job.outcome ? `${label(job.outcome.resolution_code)}${job.outcome.notes ? ': ' + job.outcome.notes : ''}` : null],
    ]);
    const box = $('#job-actions');
    box.replaceChildren();
    const mayCancel = ['admin', 'dispatcher'].includes(user.role);
    const canAct = ['admin', 'dispatcher', 'engineer'].includes(user.role);
    for (const a of ACTIONS[job.status] || []) {
        if (!canAct || (a === 'cancel' && !mayCancel))
            continue;
        box.append(h('button', { type: 'button', id: 'act-' + a, class: a === 'cancel' ? 'secondary' : null,
                                 onclick: () => act(a) }, ACTION_TEXT[a]));
    }
    drawOutcomeForm();
}

function drawOutcomeForm() {
    const may = ['admin', 'dispatcher', 'senior', 'engineer'].includes(user.role);
    $('#outcome-form').hidden = !(may && !job.outcome &&
                                  ['on_site', 'done', 'needs_revisit'].includes(job.status));
    $('#resolved').disabled = !job.ticket_id;
    if (!job.ticket_id)
        $('#resolved').checked = false;
}

async function recordOutcome(ev) {
    ev.preventDefault();
    const box = $('#outcome-problem');
    showProblem(box, null);
    const code = $('#resolution_code').value;
    const body = { resolution_code: code, resolved: $('#resolved').checked && code !== 'not_resolved' };
    const notes = $('#outcome-notes').value.trim();
    if (notes)
        body.notes = notes;
    if ($('#time_on_site_min').value !== '')
        body.time_on_site_min = Number($('#time_on_site_min').value);
    $('#outcome-submit').disabled = true;
    try {
        await api(`/jobs/${id}/outcome`, { method: 'POST', body });
        job = await api('/jobs/' + id);
        drawJob();
        loadDiag();
        if (job.ticket_id) {
            const t = await api('/tickets/' + job.ticket_id);
            const cell = [...document.querySelectorAll('#ticket-facts dt')].find(dt => dt.textContent === 'Ticket status');
            if (cell)
                fill(cell.nextElementSibling, badge(t.status));
        }
    } catch (e) {
        showProblem(box, e);
    } finally {
        $('#outcome-submit').disabled = false;
    }
}

async function act(action) {
    const box = $('#action-problem');
    showProblem(box, null);
    try {
        await api(`/jobs/${id}/${action}`, { method: 'POST' });
        job = await api('/jobs/' + id);
        drawJob();
        loadDiag();
    } catch (e) {
        showProblem(box, e);
    }
}

async function drawTicket() {
    const [t, s] = await Promise.all([ticket(job.ticket_id), site(job.site_id)]);
    const d = t && t.device_id ? await device(t.device_id) : null;
    facts($('#ticket-facts'), [
        ['Ticket', t ? `#${t.number ?? ''} ${t.subject}` : null],
        ['Category', t ? badge(t.category) : null], ['Ticket status', t ? badge(t.status) : null],
        ['Description', t ? t.description : null],
        ['Reporter', t && t.reporter_name ? `${t.reporter_name} ${t.reporter_phone || ''}` : null],
        ['Site', s ? s.name : job.site_id], ['Address', s ? s.address : null],
        ['Access', s ? s.access_notes : null],
        ['Device', d ? `${d.model} ${d.serial}${d.location ? ' — ' + d.location : ''}` +
            (d.bus ? ` (bus ${d.bus}, unit ${d.unit_id ?? '?'})` : '') : null],
    ]);
}

// --- diagnostics --------------------------------------------------------------------------

function drawChecklist(cl) {
    const body = $('#checklist tbody');
    body.replaceChildren();
    const items = (cl && cl.items) || [];
    $('#checklist-empty').hidden = items.length > 0;
    $('#checklist').hidden = items.length === 0;
    const mayTick = ['admin', 'senior', 'engineer'].includes(user.role);
    for (const it of items) {
        const tr = h('tr', { dataset: { key: it.key, serial: it.serial || '' } });
        let noteCell;
        let actCell = h('td', {});
        if (!it.auto && mayTick) {
            const sel = h('select', { class: 'tick-status' },
                          h('option', { value: 'pass', selected: it.status === 'pass' }, 'pass'),
                          h('option', { value: 'fail', selected: it.status === 'fail' }, 'fail'));
            const note = h('input', { class: 'tick-note', value: it.note || '', placeholder: 'note' });
            noteCell = h('td', {}, note);
            actCell = h('td', {}, sel, ' ', h('button', { type: 'button', class: 'tick-save',
                onclick: () => tick(it, sel.value, note.value) }, 'Save'));
        } else {
            noteCell = h('td', {}, it.note || '');
        }
        tr.append(h('td', { class: 'mono' }, it.serial || '—'),
                  h('td', {}, it.title || label(it.key), it.required ? '' : h('span', { class: 'muted' }, ' (optional)'),
                    it.auto ? h('div', { class: 'muted' }, 'from the readings') : null),
                  h('td', {}, badge(it.status)), h('td', { class: 'value' }, fmtValue(it.value)),
                  h('td', {}, it.expected ?? '—'), noteCell, actCell);
        body.append(tr);
    }
    const ov = $('#checklist-override');
    ov.hidden = !(cl && cl.override);
    if (cl && cl.override)
        ov.textContent = `The gate was overridden: ${cl.override.reason || ''}`;
    const blocking = (cl && cl.blocking) || [];
    $('#override-form').hidden = !(['senior', 'admin'].includes(user.role) && blocking.length &&
                                   !(cl && cl.override));
}

async function override(ev) {
    ev.preventDefault();
    const box = $('#checklist-problem');
    showProblem(box, null);
    const reason = $('#override-reason').value.trim();
    if (!reason) {
        showProblem(box, new ApiError(400, { detail: 'Say why the job may be done anyway: a reason is required.' }));
        return;
    }
    try {
        await api(`/diag/jobs/${id}/checklist/override`, { method: 'POST', body: { reason } });
        $('#override-reason').value = '';
        await loadDiag();
    } catch (e) {
        showProblem(box, e);
    }
}

async function tick(item, status, note) {
    const box = $('#checklist-problem');
    showProblem(box, null);
    try {
        await api(`/diag/jobs/${id}/checklist/${item.id}`, { method: 'PUT',
                  body: note ? { status, note } : { status } });
        await loadDiag();
    } catch (e) {
        showProblem(box, e);
    }
}

async function loadDiag() {
    const box = $('#diag-problem');
    try {
        const d = await api('/diag/jobs/' + id);
        const body = $('#sessions tbody');
        body.replaceChildren();
        (d.sessions || []).forEach(s => body.append(sessionRow(s)));
        $('#no-sessions').hidden = (d.sessions || []).length > 0;
        // A session still running (started from another tab or before a reload): follow it.
        const running = (d.sessions || []).find(s => s.status === 'running');
        if (running && !live)
            watch(running.id);
        const v = verdictText(d.verdict);
        const vp = $('#verdict');
        vp.replaceChildren();
        vp.className = 'verdict' + (v ? '' : ' muted');
        if (d.verdict)
            vp.append(badge(d.verdict.verdict), ' ', v);
        else
            vp.textContent = 'No review yet.';
        drawChecklist(d.checklist);
    } catch (e) {
        if (e instanceof ApiError && e.status === 404 && !(e.problem.detail || '').includes(id))
            e = new ApiError(404, { detail: 'this fieldd has no diagnostics API (GET /api/v1/diag/jobs/{id})' });
        showProblem(box, e);
    }
}

function settings() {
    const num = sel => Number($(sel).value);
    const s = { unit_from: num('#unit_from'), unit_to: num('#unit_to'),
                timeout_ms: num('#timeout_ms'), events: num('#events'), frames: $('#frames').checked };
    if ($('#transport').value === 'rtu') {
        Object.assign(s, { port: $('#port').value.trim(), baud: num('#baud'),
                           parity: $('#parity').value, data_bits: num('#data_bits'),
                           stop_bits: num('#stop_bits') });
    } else {
        s.endpoints = $('#endpoints').value.split(/\s+/).filter(Boolean);
    }
    return s;
}

function progressLine(text, cls) {
    const ol = $('#progress');
    ol.append(h('li', { class: cls || null }, `${new Date().toLocaleTimeString(undefined, { hour12: false })}  ${text}`));
    ol.scrollTop = ol.scrollHeight;
}

// A session can end before the stream is connected (a single TCP unit takes milliseconds),
// and then the stream only says how it ended: fill in what the stored session has and the
// live list lacks.
async function catchUp(sessionId) {
    try {
        const s = await api('/diag/sessions/' + sessionId);
        const units = new Map((s.units || []).map(u => [u.id, u]));
        const shown = new Set([...document.querySelectorAll('#live-findings li')]
            .map(li => `${li.dataset.code}/${li.dataset.unit}`));
        if (!document.querySelector('#progress li.diag_unit_found')) {
            for (const u of s.units || [])
                progressLine(describeEvent('diag_unit_found', u), 'diag_unit_found');
        }
        for (const f of s.findings || []) {
            const u = units.get(f.diag_device_id);
            const unitId = u ? u.unit_id : undefined;
            if (shown.has(`${f.code}/${unitId}`))
                continue;
            const li = findingItem(Object.assign({}, f, { unit_id: unitId }));
            li.dataset.source = 'stored';
            $('#live-findings').append(li);
            $('#no-findings').hidden = true;
        }
    } catch (e) {
        showProblem($('#diag-problem'), e);
    }
}

function watch(sessionId) {
    if (live)
        live.close();
    $('#live').hidden = false;
    $('#progress').replaceChildren();
    $('#live-findings').replaceChildren();
    $('#no-findings').hidden = false;
    fill($('#live-status'), badge('running'));
    $('#live-reason').hidden = true;
    watching = sessionId;
    $('#stop').hidden = !['admin', 'senior', 'engineer'].includes(user.role);
    $('#stop').disabled = false;
    const handlers = {};
    for (const name of LIVE_EVENTS) {
        handlers[name] = d => {
            const text = describeEvent(name, d);
            if (text)
                progressLine(text, name);
            if (name === 'diag_finding') {
                $('#no-findings').hidden = true;
                const li = findingItem(d);
                li.dataset.source = 'live';
                $('#live-findings').append(li);
            }
            if (name === 'diag_end') {
                fill($('#live-status'), badge(d.status));
                $('#stop').hidden = true;
                $('#live-reason').hidden = !d.reason;
                $('#live-reason').textContent = d.reason || '';
                live.close();
                live = null;
                $('#run').disabled = false;
                catchUp(sessionId);
                loadDiag();
            }
        };
    }
    live = stream(`/diag/sessions/${sessionId}/events`, handlers, () => {
        if (live && live.readyState === EventSource.CLOSED) {
            progressLine('The live stream was closed; the session page has what was stored.');
            $('#run').disabled = false;
        }
    });
}

// Stop the session being watched after its current Modbus transaction; it then ends partial
// (or failed when nothing was read) and the stream says so.
async function stop() {
    const box = $('#diag-problem');
    showProblem(box, null);
    $('#stop').disabled = true;
    try {
        await api(`/diag/sessions/${watching}/stop`, { method: 'POST' });
        progressLine('Stopping after the current request…');
    } catch (e) {
        showProblem(box, e);
        $('#stop').disabled = false;
    }
}

async function run(ev) {
    ev.preventDefault();
    const box = $('#diag-problem');
    showProblem(box, null);
    $('#run').disabled = true;
    try {
        const s = await api('/diag/sessions', { method: 'POST',
            body: { job_id: id, transport: $('#transport').value, settings: settings() } });
        watch(s.id);
        loadDiag();
    } catch (e) {
        showProblem(box, e);
        $('#run').disabled = false;
    }
}

function transportChanged() {
    const rtu = $('#transport').value === 'rtu';
    document.querySelectorAll('#run-form .rtu').forEach(e => { e.hidden = !rtu; });
    document.querySelectorAll('#run-form .tcp').forEach(e => { e.hidden = rtu; });
    if (!rtu && $('#unit_to').value === '8')
        $('#unit_to').value = '1';
}

start().then(async u => {
    user = u;
    if (!id)
        throw new ApiError(400, { detail: 'this page needs ?id=<job id> (open a job from the list)' });
    job = await api('/jobs/' + id);
    drawJob();
    drawTicket().catch(() => {});
    $('#run-form').hidden = !['admin', 'senior', 'engineer'].includes(user.role);
    $('#transport').addEventListener('change', transportChanged);
    $('#run-form').addEventListener('submit', run);
    $('#override-form').addEventListener('submit', override);
    $('#outcome-form').addEventListener('submit', recordOutcome);
    $('#stop').addEventListener('click', stop);
    await loadDiag();
}).catch(pageError);
