// SPDX-License-Identifier: MIT
// ui.js - small DOM helpers shared by the pages: element building (text only, never HTML
// from data), the top bar, dates, status badges and the problem box that shows why fieldd
// refused something.

import { me, signOut } from './api.js';

// h('td', {class: 'num'}, 'text', child, ...): children are strings (as text) or nodes;
// null and false are skipped; arrays are flattened.
export function h(tag, props, ...children) {
    const el = document.createElement(tag);
    for (const [k, v] of Object.entries(props || {})) {
        if (v === undefined || v === null || v === false)
            continue;
        if (k.startsWith('on') && typeof v === 'function')
            el.addEventListener(k.slice(2), v);
        else if (k === 'class')
            el.className = v;
        else if (k === 'dataset')
            Object.assign(el.dataset, v);
        else if (k === 'value' || k === 'checked' || k === 'selected' || k === 'disabled')
            el[k] = v;
        else
            el.setAttribute(k, v === true ? '' : String(v));
    }
    const add = c => {
        if (c === null || c === undefined || c === false)
            return;
        if (Array.isArray(c))
            c.forEach(add);
        else
            el.append(c instanceof Node ? c : String(c));
    };
    children.forEach(add);
    return el;
}

export function $(sel) {
    return document.querySelector(sel);
}

export function param(name) {
    return new URLSearchParams(location.search).get(name);
}

export function fill(el, ...children) {
    el.replaceChildren();
    children.forEach(c => el.append(c instanceof Node ? c : String(c)));
    return el;
}

// A date and time in the browser's zone; with seconds when two may fall in one minute.
export function fmtTime(iso, seconds) {
    if (!iso)
        return '—';
    const d = new Date(iso);
    if (isNaN(d))
        return iso;
    return d.toLocaleString(undefined, { year: 'numeric', month: 'short', day: 'numeric',
                                         hour: '2-digit', minute: '2-digit',
                                         second: seconds ? '2-digit' : undefined });
}

export function fmtClock(iso) {
    if (!iso)
        return '—';
    const d = new Date(iso);
    return isNaN(d) ? iso : d.toLocaleTimeString(undefined, { hour12: false }) +
        '.' + String(d.getMilliseconds()).padStart(3, '0');
}

// A measured value as a person reads it: "12.1000004 V" becomes "12.10 V".
export function fmtValue(v) {
    if (v === null || v === undefined || v === '')
        return '—';
    if (typeof v === 'number')
        return Number.isInteger(v) ? String(v) : String(Number(v.toFixed(3)));
    return String(v).replace(/-?\d+\.\d{4,}/g, m => String(Number(Number(m).toFixed(3))));
}

export function label(s) {
    return s ? String(s).replace(/_/g, ' ') : '—';
}

export function badge(status, text) {
    return h('span', { class: 'badge s-' + status, dataset: { status } }, label(text || status));
}

// The sentence that explains an ApiError to a person.
export function problemText(err) {
    if (!err)
        return '';
    const p = err.problem || {};
    let text = p.detail || err.message || String(err);
    if (Array.isArray(p.failing_items) && p.failing_items.length) {
        text += '\n' + p.failing_items.map(i =>
            `• ${i.serial || ''} ${label(i.key)}: ${i.status}` +
            (i.value !== undefined && i.value !== null ? ` (value ${i.value}` +
                (i.expected ? `, expected ${i.expected})` : ')') : '')).join('\n');
    }
    return text;
}

// Show err in box (a .problem element), or hide the box when err is null.
export function showProblem(box, err) {
    if (!err) {
        box.hidden = true;
        box.textContent = '';
        return;
    }
    box.hidden = false;
    box.textContent = problemText(err);
}

const NAV = [
    { href: '/ui/jobs.html', text: 'Jobs', mine: 'My jobs', roles: null },
    { href: '/ui/review.html', text: 'Review', roles: ['senior', 'admin', 'head', 'dispatcher'] },
    { href: '/ui/board.html', text: 'Board', roles: ['dispatcher', 'admin', 'head', 'senior'] },
    { href: '/ui/myday.html', text: 'My day', roles: ['engineer', 'senior'] },
    { href: '/ui/metrics.html', text: 'Metrics', roles: ['head', 'admin', 'dispatcher'] },
];

// Draw the top bar for user into <header class="top">; returns user.
export function topBar(user) {
    const bar = document.querySelector('header.top');
    if (!bar)
        return user;
    const links = NAV.filter(n => !n.roles || n.roles.includes(user.role)).map(n =>
        h('a', { href: n.href, class: location.pathname === n.href ? 'current' : null },
          user.role === 'engineer' && n.mine ? n.mine : n.text));
    fill(bar, h('a', { class: 'brand', href: '/ui/' }, 'acsfield'), ...links,
         h('span', { class: 'who', id: 'who' }, `${user.name} · ${user.role}`),
         h('button', { type: 'button', id: 'sign-out', onclick: () => signOut() }, 'Sign out'));
    return user;
}

// Every page but sign-in starts here: who is signed in (or off to sign-in), and the top bar.
export async function start() {
    const user = await me();
    topBar(user);
    return user;
}

// A page-level failure: what went wrong, in the main area.
export function pageError(err) {
    const main = document.querySelector('main');
    main.prepend(h('p', { class: 'problem', id: 'page-problem' }, problemText(err)));
}
