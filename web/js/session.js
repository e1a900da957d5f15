// SPDX-License-Identifier: MIT
// session.js - one diagnostic session for review: what was found (units, findings, readings,
// the controllers' event logs), the raw Modbus frames (hex, decoded, timing, status; paged
// and filtered), device actions (beep to find a unit, unlock, reboot; confirmed first), links
// to compare a unit with another session, and the verdict form.

import { api, stream, ApiError } from './api.js';
import { $, h, badge, fill, fmtTime, fmtClock, fmtValue, param, showProblem, start, pageError } from './ui.js';
import { siteName } from './names.js';
import { findingItem, verdictText } from './diag.js';

const id = param('id');
let user;
let session;
let unitsById = new Map();
let framesAfter = null;

function unitLabel(diagDeviceId) {
    const u = unitsById.get(diagDeviceId);
    return u ? `${u.unit_id}` + (u.serial ? ` (${u.serial})` : '') : '—';
}

function readingValue(r) {
    if (r.value_text !== null && r.value_text !== undefined && r.value_text !== '')
        return r.value_text;
    if (r.value_num === null || r.value_num === undefined)
        return '—';
    return `${fmtValue(r.value_num)}${r.unit ? ' ' + r.unit : ''}`;
}

function drawFacts() {
    const s = session;
    const dl = $('#facts');
    fill(dl);
    const settings = s.settings || {};
    const where = s.transport === 'rtu'
        ? `${settings.port || '?'} ${settings.baud || ''} ${settings.data_bits || 8}${settings.parity || ''}${settings.stop_bits || 1}`
        : (settings.endpoints || []).join(', ');
    const siteCell = h('dd', {}, '…');
    siteName(s.site_id).then(n => { siteCell.textContent = n; });
    const pairs = [
        ['Status', h('dd', {}, badge(s.status), s.reason ? h('div', { class: 'muted', id: 'reason' }, s.reason) : null)],
        ['Engineer', h('dd', {}, s.engineer_name || '—')],
        ['Site', siteCell],
        ['Job', h('dd', {}, s.job_id ? h('a', { href: '/ui/job.html?id=' + s.job_id }, 'open the job') : '—')],
        ['Transport', h('dd', { class: 'mono' }, `${s.transport} ${where}`)],
        ['Started', h('dd', {}, fmtTime(s.started_at))], ['Ended', h('dd', {}, fmtTime(s.ended_at))],
        ['Units found', h('dd', {}, String(s.units_found ?? (s.units || []).length))],
    ];
    for (const [k, v] of pairs)
        dl.append(h('dt', {}, k), v);
}

function drawUnits() {
    const body = $('#units tbody');
    body.replaceChildren();
    for (const u of session.units || []) {
        const cmp = u.serial ? h('a', { href: `/ui/compare.html?serial=${encodeURIComponent(u.serial)}&b=${id}`,
                                        class: 'compare-link' }, 'compare') : null;
        body.append(h('tr', { dataset: { serial: u.serial || '' } },
                      h('td', { class: 'mono' }, u.bus || '—'), h('td', { class: 'num' }, u.unit_id),
                      h('td', {}, u.model || '—'), h('td', { class: 'mono' }, u.serial || '—'),
                      h('td', {}, u.firmware_version || '—'),
                      h('td', {}, u.unknown ? [badge('warning', 'not in inventory'), ' ', mayAdd()
                          ? h('button', { type: 'button', class: 'secondary add-unit', onclick: () => addUnit(u) },
                              'Add to inventory') : null] : (u.device_id ? 'linked' : '—')),
                      h('td', {}, u.error ? h('span', { class: 's-failed' }, u.error) : ''), h('td', {}, cmp),
                      actionCell(u)));
    }
}

// The actions of each model's profile (drivers/profiles, docs/diagnostics.md).
const ACTIONS = {
    'TC-200': ['beep', 'led_test', 'unlock_entry_once', 'unlock_exit_once', 'free_passage',
               'normal_mode', 'lock', 'reboot'],
    'RC-50': ['beep', 'led_green', 'reboot'],
};

function actionCell(u) {
    const list = ACTIONS[u.model];
    if (!list || !['admin', 'senior', 'engineer'].includes(user.role))
        return h('td', {});
    const sel = h('select', { class: 'unit-action' }, list.map(a => h('option', { value: a }, a.replace(/_/g, ' '))));
    return h('td', {}, sel, ' ', h('button', { type: 'button', class: 'secondary run-action',
                                               onclick: () => runAction(u, sel.value) }, 'Run'));
}

// A device action changes what the controller does (it may open a passage): the person
// confirms it, then fieldd runs it on the session's bus and records it in the audit log.
async function runAction(u, action) {
    const box = $('#units-problem');
    const out = $('#action-result');
    showProblem(box, null);
    out.hidden = true;
    if (!window.confirm(`Run "${action.replace(/_/g, ' ')}" on unit ${u.unit_id} (${u.model} ${u.serial || ''})?`))
        return;
    try {
        const res = await api(`/diag/sessions/${id}/actions`, { method: 'POST',
                              body: { unit: u.id, action, confirm: true } });
        out.textContent = `${res.action.replace(/_/g, ' ')} on unit ${res.unit_id} (${res.bus}): ${res.result}`;
        out.hidden = false;
    } catch (e) {
        showProblem(box, e);
    }
}

function mayAdd() {
    return ['admin', 'senior', 'dispatcher', 'engineer'].includes(user.role);
}

// An unknown unit becomes a device of the session's site, from what the unit said.
async function addUnit(u) {
    const box = $('#units-problem');
    showProblem(box, null);
    try {
        await api(`/diag/sessions/${id}/units/${u.id}/add`, { method: 'POST', body: {} });
        session = await api('/diag/sessions/' + id);
        unitsById = new Map((session.units || []).map(x => [x.id, x]));
        drawUnits();
    } catch (e) {
        showProblem(box, e);
    }
}

function drawFindings() {
    const ul = $('#findings');
    ul.replaceChildren();
    const order = { critical: 0, warning: 1, info: 2 };
    const list = [...(session.findings || [])].sort((a, b) => (order[a.severity] ?? 3) - (order[b.severity] ?? 3));
    for (const f of list) {
        const u = unitsById.get(f.diag_device_id);
        ul.append(findingItem(Object.assign({}, f, u ? { unit_id: u.unit_id } : {})));
    }
    $('#no-findings').hidden = list.length > 0;
}

function drawReadings() {
    const body = $('#readings tbody');
    body.replaceChildren();
    const only = $('#r-unit').value;
    for (const r of session.readings || []) {
        if (only && r.diag_device_id !== only)
            continue;
        body.append(h('tr', { dataset: { name: r.name } }, h('td', {}, unitLabel(r.diag_device_id)),
                      h('td', {}, r.name), h('td', { class: 'reading-value' }, readingValue(r)),
                      h('td', { class: 'mono muted' }, (r.raw || []).join(' ')),
                      h('td', {}, fmtClock(r.read_at))));
    }
}

function drawEventLog() {
    const body = $('#event-log tbody');
    body.replaceChildren();
    for (const e of session.event_log || []) {
        body.append(h('tr', {}, h('td', {}, unitLabel(e.diag_device_id)), h('td', { class: 'num' }, e.seq),
                      h('td', {}, fmtTime(e.logged_at)), h('td', { class: 'mono' }, e.code),
                      h('td', {}, e.description || '')));
    }
    $('#no-events').hidden = (session.event_log || []).length > 0;
}

function drawReviews() {
    const list = session.reviews || (session.review ? [session.review] : []);
    const latest = list[0] || session.review;
    const vp = $('#verdict');
    vp.replaceChildren();
    vp.className = 'verdict' + (latest ? '' : ' muted');
    if (latest)
        vp.append(badge(latest.verdict), ' ', verdictText(latest));
    else
        vp.textContent = 'Not reviewed yet.';
    const ul = $('#reviews');
    ul.replaceChildren();
    list.slice(1).forEach(r => ul.append(h('li', {}, verdictText(r))));
}

async function loadFrames(reset) {
    const box = $('#frames-problem');
    showProblem(box, null);
    if (reset) {
        framesAfter = null;
        $('#frames tbody').replaceChildren();
    }
    const p = new URLSearchParams({ limit: '200' });
    if (framesAfter !== null)
        p.set('after', framesAfter);
    if ($('#f-unit').value)
        p.set('unit_id', $('#f-unit').value);
    if ($('#f-status').value)
        p.set('status', $('#f-status').value);
    try {
        const page = await api(`/diag/sessions/${id}/frames?${p}`);
        const body = $('#frames tbody');
        for (const f of page.items) {
            body.append(h('tr', { class: 'frame', dataset: { status: f.status } },
                          h('td', { class: 'num' }, f.seq), h('td', { class: 'mono' }, fmtClock(f.at)),
                          h('td', {}, f.direction), h('td', { class: 'num' }, f.unit_id ?? '—'),
                          h('td', { class: 'hex' }, (f.hex || '').replace(/(..)(?!$)/g, '$1 ')),
                          h('td', {}, f.decoded || ''),
                          h('td', { class: 'num' }, f.elapsed_ms ?? ''), h('td', {}, badge(f.status))));
        }
        framesAfter = page.next_after;
        $('#more-frames').hidden = framesAfter === null || framesAfter === undefined;
    } catch (e) {
        showProblem(box, e);
    }
}

async function review(ev) {
    ev.preventDefault();
    const box = $('#review-problem');
    showProblem(box, null);
    const verdict = document.querySelector('input[name=verdict]:checked').value;
    const comment = $('#comment').value.trim();
    if (verdict === 'needs_rework' && !comment) {
        showProblem(box, new ApiError(400, { detail: 'Say what needs rework: a comment is required to send a session back.' }));
        return;
    }
    $('#review-submit').disabled = true;
    try {
        await api(`/diag/sessions/${id}/reviews`, { method: 'POST',
                  body: comment ? { verdict, comment } : { verdict } });
        $('#comment').value = '';
        session = await api('/diag/sessions/' + id);
        drawReviews();
    } catch (e) {
        showProblem(box, e);
    } finally {
        $('#review-submit').disabled = false;
    }
}

start().then(async u => {
    user = u;
    if (!id)
        throw new ApiError(400, { detail: 'this page needs ?id=<session id> (open one from the review list)' });
    session = await api('/diag/sessions/' + id);
    unitsById = new Map((session.units || []).map(x => [x.id, x]));
    document.title = `Session ${fmtTime(session.started_at)} - acsfield`;
    $('#title').textContent = `Diagnostic session of ${fmtTime(session.started_at)}`;
    $('#frame-count').textContent = session.frame_count !== undefined ? `(${session.frame_count})` : '';
    drawFacts();
    drawUnits();
    drawFindings();
    for (const u of session.units || [])
        $('#r-unit').append(h('option', { value: u.id }, unitLabel(u.id)));
    $('#r-unit').addEventListener('change', drawReadings);
    drawReadings();
    drawEventLog();
    drawReviews();
    $('#review-form').hidden = !['senior', 'admin'].includes(user.role);
    $('#review-form').addEventListener('submit', review);
    $('#frame-filter').addEventListener('submit', ev => { ev.preventDefault(); loadFrames(true); });
    $('#more-frames').addEventListener('click', () => loadFrames(false));
    await loadFrames(true);
    // A session still running: show it complete when it ends.
    if (session.status === 'running') {
        const es = stream(`/diag/sessions/${id}/events`, {
            diag_end: () => { es.close(); location.reload(); },
        });
    }
}).catch(pageError);

