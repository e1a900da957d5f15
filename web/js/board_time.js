// SPDX-License-Identifier: MIT
// board_time.js - times as the board and "my day" show them: days of the browser's zone,
// 24-hour clock times, durations in words, SLA countdowns that follow fieldd's clock (which
// may differ from the browser's: the SLA test clock, or a laptop whose clock is off).

// "2026-11-24" of a Date, in the browser's zone.
export function ymd(d) {
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-` +
        String(d.getDate()).padStart(2, '0');
}

// The local day named by "YYYY-MM-DD" as [from, to) Dates; today when ymdText is not a date.
export function dayBounds(ymdText) {
    const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(ymdText || '');
    const now = new Date();
    const from = m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]))
                   : new Date(now.getFullYear(), now.getMonth(), now.getDate());
    const to = new Date(from.getFullYear(), from.getMonth(), from.getDate() + 1);
    return { from, to };
}

export function addDays(ymdText, n) {
    const { from } = dayBounds(ymdText);
    return ymd(new Date(from.getFullYear(), from.getMonth(), from.getDate() + n));
}

// "09:05" in the browser's zone.
export function hm(value) {
    if (!value)
        return '—';
    const d = value instanceof Date ? value : new Date(value);
    if (isNaN(d))
        return String(value);
    return `${String(d.getHours()).padStart(2, '0')}:${String(d.getMinutes()).padStart(2, '0')}`;
}

// "Tue 24 Nov" in the browser's zone.
export function dayName(value) {
    const d = value instanceof Date ? value : new Date(value);
    return d.toLocaleDateString(undefined, { weekday: 'short', day: 'numeric', month: 'short' });
}

// 4500 -> "1 h 15 min"; 600 -> "10 min".
export function minutesText(seconds) {
    const m = Math.round(Math.abs(seconds) / 60);
    if (m < 60)
        return `${m} min`;
    const h = Math.floor(m / 60);
    return m % 60 ? `${h} h ${m % 60} min` : `${h} h`;
}

// A countdown: "4:07" under an hour, "2 h 13 m" beyond; "overdue 3:10" once past.
export function countdownText(seconds) {
    const past = seconds < 0;
    const s = Math.floor(Math.abs(seconds));
    let text;
    if (s >= 3600) {
        const h = Math.floor(s / 3600);
        text = `${h} h ${String(Math.floor((s % 3600) / 60)).padStart(2, '0')} m`;
    } else {
        text = `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
    }
    return past ? `overdue ${text}` : text;
}

// fieldd's clock: set from an answer's "now" (Date.now() plus the difference then).
let offsetMs = 0;

export function syncServerNow(serverIso) {
    const t = Date.parse(serverIso || '');
    if (!isNaN(t))
        offsetMs = t - Date.now();
}

export function serverNow() {
    return Date.now() + offsetMs;
}

// The value of an <input type="datetime-local"> for a Date (local time, minutes).
export function toLocalInput(d) {
    return `${ymd(d)}T${hm(d)}`;
}

// A Date from an <input type="datetime-local"> value (local time); null when empty or bad.
export function fromLocalInput(value) {
    const m = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2})/.exec(value || '');
    return m ? new Date(Number(m[1]), Number(m[2]) - 1, Number(m[3]), Number(m[4]), Number(m[5]))
             : null;
}
