// SPDX-License-Identifier: MIT
// diag.js - pieces of the diagnostics pages used by more than one page: a session's row in a
// table, the verdict sentence, finding items and a short description of live events.

import { h, badge, fmtTime, label } from './ui.js';

export function findingCounts(f) {
    if (!f)
        return '—';
    const parts = [];
    for (const sev of ['critical', 'warning', 'info']) {
        if (f[sev])
            parts.push(h('span', { class: 'badge s-' + sev }, `${f[sev]} ${sev}`));
    }
    return parts.length ? parts : h('span', { class: 'muted' }, 'none');
}

export function verdictText(review) {
    if (!review)
        return null;
    return `${review.verdict === 'approved' ? 'Approved' : 'Needs rework'}` +
        (review.comment ? `: “${review.comment}”` : '') +
        (review.created_at ? ` (${fmtTime(review.created_at)})` : '');
}

export function verdictBadge(review) {
    return review ? badge(review.verdict) : h('span', { class: 'muted' }, 'not reviewed');
}

export function sessionRow(s, extra) {
    return h('tr', { dataset: { id: s.id } },
             h('td', {}, h('a', { href: '/ui/session.html?id=' + s.id, class: 'session-link' },
                          fmtTime(s.started_at, true))),
             extra || null,
             h('td', {}, s.engineer_name || '—'),
             h('td', {}, s.transport),
             h('td', {}, badge(s.status), s.reason ? h('div', { class: 'muted' }, s.reason) : null),
             h('td', { class: 'num' }, s.units_found ?? '—'),
             h('td', {}, findingCounts(s.findings)),
             h('td', {}, verdictBadge(s.review)));
}

export function findingItem(f) {
    return h('li', { class: 'finding', dataset: { code: f.code, unit: String(f.unit_id) } },
             badge(f.severity), ' ', h('strong', { class: 'mono' }, f.code), ' ',
             f.unit_id !== undefined ? h('span', { class: 'muted' }, `unit ${f.unit_id} `) : null,
             h('div', {}, f.message || ''),
             f.advice ? h('div', { class: 'advice' }, f.advice) : null);
}

// One line of the progress list for a live event, or null for events not worth a line.
export function describeEvent(name, d) {
    switch (name) {
    case 'diag_started':
        return `Started on ${(d.buses || []).join(', ') || d.transport}`;
    case 'diag_scan':
        return d.present ? `Unit ${d.unit_id} on ${d.bus} answered` : null;
    case 'diag_unit_found':
        return `Found unit ${d.unit_id}: ${d.model || '?'} serial ${d.serial || '?'}` +
            (d.firmware_version ? `, firmware ${d.firmware_version}` : '');
    case 'diag_unit_reading':
        return `Reading unit ${d.unit_id}…`;
    case 'diag_finding':
        return `Finding on unit ${d.unit_id}: ${d.code} (${d.severity})`;
    case 'diag_unit_done':
        return d.ok ? `Unit ${d.unit_id} read: ${d.readings} readings, ${d.findings} findings, ` +
            `${d.events} log records` : `Unit ${d.unit_id} failed: ${d.error || 'no answer'}`;
    case 'diag_end':
        return `Finished: ${d.status}${d.reason ? ' — ' + d.reason : ''}`;
    default:
        return `${label(name)}`;
    }
}

export const LIVE_EVENTS = ['diag_started', 'diag_scan', 'diag_unit_found', 'diag_unit_reading',
                            'diag_finding', 'diag_unit_done', 'diag_end'];
