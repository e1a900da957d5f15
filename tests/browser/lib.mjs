// SPDX-License-Identifier: MIT
// lib.mjs - what every browser scenario shares: Debian's chromium started headless through
// playwright-core, the scenario's configuration (from test_web.py, in ACS_WEB_CONFIG as
// JSON: base URL, tokens, ids), assertions on what a person sees, and on failure a
// screenshot and the page's console in the artifacts folder, then exit status 1.

import { chromium } from 'playwright-core';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

export class Failure extends Error {}

export function config() {
    const raw = process.env.ACS_WEB_CONFIG;
    if (!raw)
        throw new Failure('ACS_WEB_CONFIG is not set: run the scenarios through test_web.py');
    return JSON.parse(raw);
}

export function check(cond, what) {
    if (!cond)
        throw new Failure(what);
}

// Wait until the text of the first element matching selector matches re (a RegExp or a
// string to contain); return that text. Fails naming the selector, what was expected and
// what the element said last.
export async function waitText(page, selector, re, timeout = 15000) {
    const pattern = re instanceof RegExp ? { source: re.source, flags: re.flags } : { contains: String(re) };
    try {
        await page.waitForFunction(([sel, p]) => {
            const el = document.querySelector(sel);
            if (!el)
                return false;
            const t = el.innerText ?? el.textContent ?? '';
            return p.contains !== undefined ? t.includes(p.contains) : new RegExp(p.source, p.flags).test(t);
        }, [selector, pattern], { timeout, polling: 100 });
    } catch {
        const last = await page.evaluate(sel => {
            const el = document.querySelector(sel);
            return el ? (el.innerText ?? el.textContent) : null;
        }, selector).catch(() => null);
        throw new Failure(`${selector} should show ${re} within ${timeout} ms; it shows ` +
                          (last === null ? '(no such element)' : JSON.stringify(last.slice(0, 600))) +
                          ` on ${page.url()}`);
    }
    return page.evaluate(sel => document.querySelector(sel).innerText, selector);
}

export async function waitUrl(page, re, timeout = 15000) {
    try {
        await page.waitForURL(re, { timeout });
    } catch {
        throw new Failure(`the page should reach ${re} within ${timeout} ms; it is at ${page.url()}`);
    }
}

export async function visible(page, selector) {
    return page.locator(selector).first().isVisible();
}

// Sign in through the sign-in page as a person would, then land on next (or the start page).
export async function signIn(page, base, token, next) {
    await page.goto(base + '/ui/signin.html' + (next ? '?next=' + encodeURIComponent(next) : ''));
    await page.fill('#token', token);
    await page.click('#submit');
    await page.waitForURL(u => !u.pathname.endsWith('/signin.html'), { timeout: 15000 })
        .catch(async () => {
            const msg = await page.locator('#problem').innerText().catch(() => '');
            throw new Failure(`sign-in did not leave the sign-in page: ${msg}`);
        });
}

// Run scenario(ctx) with a fresh browser; ctx = {cfg, browser, newPage(), log(...)}.
export async function run(name, scenario) {
    const cfg = config();
    const artifacts = cfg.artifacts || '.';
    mkdirSync(artifacts, { recursive: true });
    const browser = await chromium.launch({
        executablePath: cfg.chromium || '/usr/bin/chromium',
        headless: true,
        args: ['--no-sandbox', '--disable-dev-shm-usage', '--disable-gpu'],
    });
    const pages = [];
    const consoleLines = [];
    const pageErrors = [];
    const ctx = {
        cfg,
        browser,
        async newPage() {
            const context = await browser.newContext({ viewport: { width: 1366, height: 800 } });
            const page = await context.newPage();
            const idx = pages.length;
            page.on('console', m => consoleLines.push(`[page ${idx}] ${m.type()}: ${m.text()}`));
            page.on('pageerror', e => pageErrors.push(`[page ${idx}] ${e.message}`));
            pages.push(page);
            return page;
        },
        log(...a) { console.log(`[${name}]`, ...a); },
    };
    let rc = 0;
    try {
        await scenario(ctx);
        check(pageErrors.length === 0, 'uncaught errors in the pages:\n' + pageErrors.join('\n'));
        console.log(`[${name}] passed`);
    } catch (e) {
        rc = 1;
        console.error(`[${name}] FAILED: ${e instanceof Failure ? e.message : e.stack || e}`);
        for (let i = 0; i < pages.length; i++) {
            const file = join(artifacts, `${name}-page${i}.png`);
            await pages[i].screenshot({ path: file, fullPage: true }).catch(() => {});
            console.error(`[${name}] screenshot of page ${i} (${pages[i].url()}): ${file}`);
        }
        if (pageErrors.length)
            console.error(pageErrors.join('\n'));
        writeFileSync(join(artifacts, `${name}-console.txt`), consoleLines.join('\n'));
        console.error(consoleLines.slice(-30).join('\n'));
    } finally {
        await browser.close();
    }
    process.exit(rc);
}
