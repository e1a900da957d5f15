// SPDX-License-Identifier: MIT
// compare.js - one device over time: two sessions that both read the unit with a serial
// number (GET /api/v1/diag/compare), its readings side by side with the changes marked,
// findings added, removed and kept, and whether the firmware changed.

import { api } from './api.js';
import { $, h, fill, fmtTime, fmtValue, param, showProblem, start, pageError } from './ui.js';

function show(v) {
    return fmtValue(v);
}

// The sessions that read the unit with this serial, newest first.
async function candidates(serial) {
    const page = await api('/diag/sessions?' + new URLSearchParams({ serial, limit: '50' }));
    return page.items;
}

async function fillChoices() {
    const serial = $('#serial').value.trim();
    if (!serial)
        return;
    const items = await candidates(serial);
    for (const sel of ['#a', '#b']) {
        const keep = $(sel).value || param(sel.slice(1));
        fill($(sel), ...items.map(s => h('option', { value: s.id },
                                          `${fmtTime(s.started_at, true)} · ${s.engineer_name || ''} · ${s.status}`)));
        if (keep && items.some(s => s.id === keep))
            $(sel).value = keep;
    }
    // Default: the newest as "after", the one before it as "before" (items are newest first).
    if (!param('b') && items.length > 0)
        $('#b').value = items[0].id;
    if ((!param('a') || !items.some(s => s.id === param('a'))) && items.length > 1) {
        const bIndex = items.findIndex(s => s.id === $('#b').value);
        $('#a').value = items[Math.min(items.length - 1, bIndex + 1)].id;
    }
}

function draw(c) {
    $('#result').hidden = false;
    $('#device').textContent = `${c.model || ''} ${c.serial}`;
    const dl = $('#facts');
    fill(dl);
    const fw = c.firmware_changed
        ? `${show(c.a.firmware_version)} → ${show(c.b.firmware_version)} (changed)`
        : show(c.b.firmware_version);
    for (const [k, v] of [['Before', fmtTime(c.a.started_at, true)], ['After', fmtTime(c.b.started_at, true)],
                          ['Firmware', fw]])
        dl.append(h('dt', {}, k), h('dd', { id: 'fact-' + k.toLowerCase() }, v));
    const fd = $('#finding-diff');
    fill(fd);
    const f = c.findings || {};
    for (const [k, cls] of [['added', 's-critical'], ['removed', 's-ok'], ['kept', 's-warning']]) {
        const list = f[k] || [];
        fd.append(h('dt', {}, k), h('dd', { id: 'findings-' + k, class: list.length ? cls : 'muted' },
                                     list.length ? list.join(', ') : 'none'));
    }
    const body = $('#diff tbody');
    body.replaceChildren();
    const only = $('#only-changed').checked;
    for (const r of c.readings || []) {
        if (only && !r.changed)
            continue;
        body.append(h('tr', { class: r.changed ? 'changed' : null, dataset: { name: r.name } },
                      h('td', {}, r.name), h('td', {}, show(r.a)), h('td', {}, show(r.b)),
                      h('td', {}, r.unit || '')));
    }
}

let last = null;

async function compare(ev) {
    if (ev)
        ev.preventDefault();
    const box = $('#problem');
    showProblem(box, null);
    const serial = $('#serial').value.trim();
    const a = $('#a').value;
    const b = $('#b').value;
    if (!a || !b || a === b) {
        showProblem(box, new Error(`Pick two different sessions that read ${serial || 'the device'}.`));
        return;
    }
    history.replaceState(null, '', '?' + new URLSearchParams({ serial, a, b }));
    try {
        last = await api('/diag/compare?' + new URLSearchParams({ a, b, serial }));
        draw(last);
    } catch (e) {
        $('#result').hidden = true;
        showProblem(box, e);
    }
}

start().then(async () => {
    $('#serial').value = param('serial') || '';
    $('#serial').addEventListener('change', () => fillChoices().catch(e => showProblem($('#problem'), e)));
    $('#pick').addEventListener('submit', compare);
    $('#only-changed').addEventListener('change', () => { if (last) draw(last); });
    if ($('#serial').value) {
        await fillChoices();
        if ($('#a').value && $('#b').value && $('#a').value !== $('#b').value)
            await compare();
    }
}).catch(pageError);
