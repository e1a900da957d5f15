// SPDX-License-Identifier: MIT
// signin.js - the sign-in page: the token goes once, in the Authorization header, to
// POST /api/v1/session, which answers with an HttpOnly cookie; then back to the page the
// person wanted (?next=, only pages of the UI).

import { safeNext } from './api.js';
import { $ } from './ui.js';

async function signIn(ev) {
    ev.preventDefault();
    const box = $('#problem');
    const token = $('#token').value.trim();
    box.hidden = true;
    if (!/^acs_[A-Za-z0-9_-]{43}$/.test(token)) {
        box.textContent = 'That is not a token: a token is "acs_" followed by 43 letters, ' +
            'digits, "-" or "_", as `fieldd user add` printed it.';
        box.hidden = false;
        return;
    }
    $('#submit').disabled = true;
    try {
        const res = await fetch('/api/v1/session', {
            method: 'POST', credentials: 'same-origin',
            headers: { Authorization: 'Bearer ' + token, 'X-ACS-CSRF': '1' },
        });
        if (!res.ok) {
            let detail = `HTTP ${res.status}`;
            try { detail = (await res.json()).detail || detail; } catch { /* not JSON */ }
            box.textContent = res.status === 401
                ? 'Sign-in refused: ' + detail + '. Ask an administrator for a new token.'
                : 'Sign-in failed: ' + detail;
            box.hidden = false;
            return;
        }
        $('#token').value = '';
        location.assign(safeNext(new URLSearchParams(location.search).get('next')));
    } catch (e) {
        box.textContent = 'fieldd did not answer (' + e.message + '): check that it runs.';
        box.hidden = false;
    } finally {
        $('#submit').disabled = false;
    }
}

$('#signin').addEventListener('submit', signIn);
