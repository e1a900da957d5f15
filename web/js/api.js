// SPDX-License-Identifier: MIT
// api.js - the web UI's one way to call fieldd: JSON in and out, the session cookie sent by
// the browser (HttpOnly: scripts never see the token), the X-ACS-CSRF header on every change
// (fieldd refuses a cookie-signed change without it), problem+json turned into ApiError,
// and a visitor who is not signed in sent to the sign-in page.

export class ApiError extends Error {
    // status: the HTTP status; problem: the RFC 7807 body (or a stand-in when there was none).
    constructor(status, problem) {
        super(problem && problem.detail ? problem.detail : `HTTP ${status}`);
        this.status = status;
        this.problem = problem || {};
    }
}

// Where the sign-in page sends a person back to: only pages of the UI itself.
export function safeNext(next) {
    return typeof next === 'string' && /^\/ui\/[A-Za-z0-9_\-./?=&%]*$/.test(next) &&
        !next.includes('..') ? next : '/ui/';
}

export function toSignIn() {
    const here = location.pathname + location.search;
    location.assign('/ui/signin.html?next=' + encodeURIComponent(here));
}

// Call /api/v1<path>. Resolves to the parsed JSON body; rejects with ApiError. A 401 sends
// the page to sign-in (the returned promise then never settles).
export async function api(path, { method = 'GET', body, signal } = {}) {
    const headers = { Accept: 'application/json' };
    if (method !== 'GET' && method !== 'HEAD')
        headers['X-ACS-CSRF'] = '1';
    const init = { method, headers, credentials: 'same-origin', signal };
    if (body !== undefined) {
        headers['Content-Type'] = 'application/json';
        init.body = JSON.stringify(body);
    }
    let res;
    try {
        res = await fetch('/api/v1' + path, init);
    } catch (e) {
        if (e.name === 'AbortError')
            throw e;
        throw new ApiError(0, { title: 'Network error',
            detail: `fieldd did not answer (${e.message}): check that the service runs` });
    }
    const text = await res.text();
    let data = null;
    if (text) {
        try { data = JSON.parse(text); } catch { data = { detail: text }; }
    }
    if (res.status === 401) {
        toSignIn();
        return new Promise(() => {});
    }
    if (!res.ok)
        throw new ApiError(res.status, data);
    return data;
}

// The signed-in person ({id, name, role, ...}); sends to sign-in when nobody is.
export function me() {
    return api('/me');
}

// Live events of /api/v1<path> (Server-Sent Events; the cookie goes along). handlers maps
// event names to functions of the parsed data. Returns the EventSource (close() it).
export function stream(path, handlers, onError) {
    const es = new EventSource('/api/v1' + path);
    for (const [name, fn] of Object.entries(handlers)) {
        es.addEventListener(name, ev => {
            let data = null;
            try { data = JSON.parse(ev.data); } catch { data = { raw: ev.data }; }
            fn(data);
        });
    }
    if (onError)
        es.onerror = onError;
    return es;
}

export async function signOut() {
    await fetch('/api/v1/session', { method: 'DELETE', credentials: 'same-origin',
                                      headers: { 'X-ACS-CSRF': '1' } });
    location.assign('/ui/signin.html');
}
