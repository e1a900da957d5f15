// SPDX-License-Identifier: MIT
// names.js - names for ids: sites, tickets and devices fetched once per page and remembered,
// so that lists show "Riverside, entrance 2" rather than a UUID.

import { api } from './api.js';

const memo = new Map();

function once(path) {
    if (!memo.has(path))
        memo.set(path, api(path).catch(() => null));
    return memo.get(path);
}

export async function siteName(id) {
    if (!id)
        return '—';
    const s = await once('/sites/' + id);
    return s ? s.name : id.slice(0, 8);
}

export function site(id) {
    return id ? once('/sites/' + id) : Promise.resolve(null);
}

export function ticket(id) {
    return id ? once('/tickets/' + id) : Promise.resolve(null);
}

export function device(id) {
    return id ? once('/devices/' + id) : Promise.resolve(null);
}
