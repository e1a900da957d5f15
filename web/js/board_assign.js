// SPDX-License-Identifier: MIT
// board_assign.js - the board's assignment panel: every assignment (a drop on an engineer's
// day, a click on a suggestion, the "Assign…" form) goes through attempt(), which shows
// what is being assigned, sends it, and on a refusal shows fieldd's reason (the 409's
// detail and each rule that refused it) with a way to assign anyway with a reason.

import { api } from './api.js';
import { $, h, label, showProblem } from './ui.js';
import { dayName, hm, toLocalInput, fromLocalInput } from './board_time.js';

let engineers = [];          // [{id, name}] for the select
let current = null;          // {job, engineerId, start, end} last attempted or being edited
let onAssigned = () => {};
let notify = () => {};

export function engineerName(id) {
    const e = engineers.find(x => x.id === id);
    return e ? e.name : (id ? `engineer ${String(id).slice(0, 8)}` : '—');
}

export function setEngineers(list) {
    engineers = list;
    const sel = $('#assign-engineer');
    const keep = sel.value;
    sel.replaceChildren(...list.map(e => h('option', { value: e.id }, e.name)));
    if (keep)
        sel.value = keep;
}

function jobName(job) {
    return job.title || `${label(job.kind)} job`;
}

// A rule's refusal as a sentence: fieldd sends strings or objects with the sentence in one
// of a few fields and the rule's code.
export function reasonText(r) {
    if (r === null || r === undefined)
        return '';
    if (typeof r === 'string')
        return r;
    return r.text || r.sentence || r.message || r.detail || r.reason || r.code || JSON.stringify(r);
}

function hideRefusal() {
    $('#assign-refusal').hidden = true;
    $('#assign-reasons').replaceChildren();
    showProblem($('#assign-problem'), null);
}

function fill(job, engineerId, start, end) {
    current = { job, engineerId, start, end };
    $('#assign-title').textContent = `Assign “${jobName(job)}”`;
    $('#assign-engineer').value = engineerId || '';
    $('#assign-start').value = start ? toLocalInput(start) : '';
    const minutes = start && end ? Math.round((end - start) / 60000) : (job.duration_min || 60);
    $('#assign-minutes').value = String(minutes);
    $('#assign-panel').hidden = false;
}

// Open the panel for job with these values, without sending anything.
export function openAssign(job, engineerId, start, end) {
    hideRefusal();
    fill(job, engineerId, start, end);
    $('#assign-panel').scrollIntoView({ block: 'nearest' });
    $('#assign-engineer').focus();
}

export function closeAssign() {
    hideRefusal();
    $('#override-reason').value = '';
    current = null;
    $('#assign-panel').hidden = true;
}

// Assign job to engineerId over [start, end) (Dates); overrideReason assigns despite the
// rules. Resolves to true when fieldd accepted it.
export async function attempt(job, engineerId, start, end, overrideReason) {
    hideRefusal();
    fill(job, engineerId, start, end);
    const body = { engineer_id: engineerId, planned_start: start.toISOString(),
                   planned_end: end.toISOString() };
    if (overrideReason) {
        body.override = true;
        body.reason = overrideReason;
    }
    $('#assign-submit').disabled = true;
    $('#override-submit').disabled = true;
    try {
        const res = await api(`/jobs/${job.id}/assign`, { method: 'POST', body });
        closeAssign();
        const warnings = (res && Array.isArray(res.warnings) ? res.warnings : []).map(reasonText);
        notify(`Assigned “${jobName(job)}” to ${engineerName(engineerId)}, ` +
               `${dayName(start)} ${hm(start)}–${hm(end)}` +
               (overrideReason ? ' (rules overridden)' : '') +
               (warnings.length ? '. Note: ' + warnings.join('; ') : '.'));
        onAssigned(job, res);
        return true;
    } catch (e) {
        showRefusal(e);
        return false;
    } finally {
        $('#assign-submit').disabled = false;
        $('#override-submit').disabled = false;
    }
}

function showRefusal(err) {
    const p = err.problem || {};
    $('#assign-refusal').hidden = false;
    showProblem($('#assign-problem'), err);
    const reasons = Array.isArray(p.reasons) ? p.reasons : [];
    const warnings = Array.isArray(p.warnings) ? p.warnings : [];
    $('#assign-reasons').replaceChildren(
        ...reasons.map(r => h('li', { class: 'reason', dataset: { code: r && r.code ? r.code : '' } },
                              reasonText(r))),
        ...warnings.map(r => h('li', { class: 'reason warning' }, 'warning: ' + reasonText(r))));
    // Rules can be overridden with a reason; a job in the wrong state cannot.
    $('#override-form').hidden = !(err.status === 409 &&
                                   (p.override_allowed === true || reasons.length > 0));
    // Who could take it instead: the job's suggestions, when its card is on the board.
    const card = current && document.querySelector(`#unassigned li[data-id="${current.job.id}"]`);
    $('#assign-alternatives').hidden = !(reasons.length > 0 && card);
    $('#assign-panel').hidden = false;
    $('#assign-panel').scrollIntoView({ block: 'nearest' });
}

function fromForm() {
    const engineerId = $('#assign-engineer').value;
    const start = fromLocalInput($('#assign-start').value);
    const minutes = Number($('#assign-minutes').value);
    if (!current || !engineerId || !start || !(minutes > 0))
        return null;
    return { engineerId, start, end: new Date(start.getTime() + minutes * 60000) };
}

export function initAssign(opts) {
    onAssigned = opts.onAssigned;
    notify = opts.notify;
    $('#assign-form').addEventListener('submit', ev => {
        ev.preventDefault();
        const f = fromForm();
        if (!f) {
            showProblem($('#assign-problem'), new Error('Choose an engineer, a start and a length.'));
            $('#assign-refusal').hidden = false;
            $('#override-form').hidden = true;
            return;
        }
        attempt(current.job, f.engineerId, f.start, f.end);
    });
    $('#override-form').addEventListener('submit', ev => {
        ev.preventDefault();
        const reason = $('#override-reason').value.trim();
        const f = fromForm();
        if (!reason) {
            $('#override-reason').focus();
            $('#override-reason').setAttribute('aria-invalid', 'true');
            return;
        }
        $('#override-reason').removeAttribute('aria-invalid');
        if (f)
            attempt(current.job, f.engineerId, f.start, f.end, reason);
    });
    $('#assign-cancel').addEventListener('click', closeAssign);
    $('#assign-alternatives').addEventListener('click', () => {
        const card = current && document.querySelector(`#unassigned li[data-id="${current.job.id}"]`);
        if (!card)
            return;
        const button = card.querySelector('.suggest-button');
        card.scrollIntoView({ block: 'nearest' });
        if (button && card.querySelector('ul.suggestions').hidden)
            button.click();
    });
}
