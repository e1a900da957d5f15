// SPDX-License-Identifier: MIT
// review.js - the senior's review list: diagnostic sessions searched by site, device serial,
// ticket, engineer, finding code, date range and status (GET /api/v1/diag/sessions), newest
// first; the search is kept in the address so that a list can be shared or reloaded.

import { api } from './api.js';
import { $, h, showProblem, start, pageError } from './ui.js';
import { siteName } from './names.js';
import { sessionRow } from './diag.js';

const FIELDS = ['site_id', 'serial', 'ticket_id', 'engineer_id', 'code', 'from', 'to', 'status'];
let cursor = null;
const engineers = new Map();

function query() {
    const p = new URLSearchParams({ limit: '50' });
    for (const f of FIELDS) {
        let v = $('#' + f).value.trim();
        if (!v)
            continue;
        // A date bound covers the whole day, in the browser's time zone.
        if (f === 'from')
            v = new Date(v + 'T00:00:00').toISOString();
        if (f === 'to')
            v = new Date(v + 'T23:59:59.999').toISOString();
        p.set(f, v);
    }
    if (cursor)
        p.set('cursor', cursor);
    return p;
}

function noteEngineer(s) {
    if (s.engineer_id && !engineers.has(s.engineer_id)) {
        engineers.set(s.engineer_id, s.engineer_name || s.engineer_id);
        $('#engineer_id').append(h('option', { value: s.engineer_id }, s.engineer_name || s.engineer_id));
    }
}

async function load(append) {
    const box = $('#problem');
    showProblem(box, null);
    if (!append)
        cursor = null;
    const p = query();
    if (!append) {
        const shown = new URLSearchParams(p);
        shown.delete('limit');
        history.replaceState(null, '', '?' + shown);
    }
    try {
        const page = await api('/diag/sessions?' + p);
        const body = $('#sessions tbody');
        if (!append)
            body.replaceChildren();
        for (const s of page.items) {
            noteEngineer(s);
            if ($('#unreviewed').checked && s.review)
                continue;
            const siteCell = h('td', {}, '…');
            siteName(s.site_id).then(n => { siteCell.textContent = n; });
            body.append(sessionRow(s, siteCell));
        }
        cursor = page.next_cursor;
        $('#more').hidden = !cursor;
        $('#empty').hidden = body.children.length > 0;
    } catch (e) {
        showProblem(box, e);
    }
}

// Every site, a page of 200 at a time (today's customer has about 400).
async function loadSites() {
    const sites = [];
    let cursor = null;
    for (let i = 0; i < 50; i++) {
        const page = await api('/sites?' + new URLSearchParams(cursor ? { limit: '200', cursor } : { limit: '200' }));
        sites.push(...page.items);
        cursor = page.next_cursor;
        if (!cursor)
            break;
    }
    const sel = $('#site_id');
    sites.sort((a, b) => a.name.localeCompare(b.name))
        .forEach(s => sel.append(h('option', { value: s.id }, s.name)));
}

start().then(async () => {
    await loadSites().catch(() => {});
    // Restore a search from the address (?serial=...&code=...).
    const given = new URLSearchParams(location.search);
    for (const f of FIELDS) {
        const v = given.get(f);
        if (!v)
            continue;
        if (f === 'engineer_id' && !engineers.has(v)) {
            engineers.set(v, v);
            $('#engineer_id').append(h('option', { value: v }, v));
        }
        $('#' + f).value = (f === 'from' || f === 'to') ? v.slice(0, 10) : v;
    }
    $('#search').addEventListener('submit', ev => { ev.preventDefault(); load(false); });
    $('#unreviewed').addEventListener('change', () => load(false));
    $('#more').addEventListener('click', () => load(true));
    await load(false);
}).catch(pageError);
