// SPDX-License-Identifier: MIT
// report.mjs - the monthly service report as the head of support opens it: signed in through
// /ui/, the report's HTML page renders its four charts as SVG with real sizes, with bars and
// the compliance lines drawn, on screen and in print (emulated print media, and a PDF that
// chromium prints from it).
//
// Configuration (from test_report.py): base, chromium, artifacts, head (token), month,
// breached (the number of breached tickets the JSON report lists).

import { check, run, signIn } from './lib.mjs';

run('report', async ({ cfg, newPage, log }) => {
    const page = await newPage();
    // Straight to a page that stays put: /ui/ itself redirects, which would race the goto below.
    await signIn(page, cfg.base, cfg.head, '/ui/jobs.html');
    await page.waitForLoadState('load');
    const url = `${cfg.base}/api/v1/reports/monthly?month=${cfg.month}&format=html`;
    const [resp] = await Promise.all([
        page.waitForResponse(r => r.url() === url, { timeout: 30000 }),
        page.goto(url),
    ]);
    check(resp.status() === 200, `GET ${url} answered ${resp.status()}`);
    check(/^text\/html/.test(resp.headers()['content-type'] || ''),
          `the report came as ${resp.headers()['content-type']}`);
    check(/Service report/.test(await page.title()), `the page title is "${await page.title()}"`);

    async function charts(label) {
        const found = await page.evaluate(() => [...document.querySelectorAll('figure.chart')].map(f => {
            const svg = f.querySelector('svg');
            const box = svg ? svg.getBoundingClientRect() : { width: 0, height: 0 };
            const sizes = [...f.querySelectorAll('rect.bar, polyline.line, circle.dot')]
                .map(e => e.getBBox()).filter(b => b.width > 0 || b.height > 0);
            return { id: f.id, width: box.width, height: box.height, marks: sizes.length,
                     texts: f.querySelectorAll('svg text').length };
        }));
        log(label, JSON.stringify(found));
        check(found.length === 4, `${label}: 4 charts expected, found ${found.length}`);
        for (const c of found) {
            check(c.width > 200 && c.height > 80,
                  `${label}: chart ${c.id} is ${c.width}x${c.height} px`);
            check(c.texts > 0, `${label}: chart ${c.id} has no labels`);
        }
        const by = Object.fromEntries(found.map(c => [c.id, c]));
        check(by['chart-sla-trend'].marks >= 2, `${label}: the SLA trend draws no line or dot`);
        check(by['chart-resolution'].marks > 0, `${label}: the resolution histogram has no bar`);
        check(by['chart-categories'].marks > 0, `${label}: the category chart has no bar`);
        return by;
    }

    await charts('screen');
    const rows = await page.locator('table.breached tbody tr').count();
    check(rows === cfg.breached, `the breached table has ${rows} rows, the JSON report ${cfg.breached}`);
    const headline = await page.locator('table.headline tbody tr').count();
    check(headline >= 20, `the headline table has ${headline} rows`);

    await page.emulateMedia({ media: 'print' });
    await charts('print');
    const pdf = await page.pdf({ format: 'A4', printBackground: true });
    check(pdf.length > 10000, `the printed report is only ${pdf.length} bytes`);
    log(`printed to a PDF of ${pdf.length} bytes`);
});
