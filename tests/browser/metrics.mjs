// SPDX-License-Identifier: MIT
// metrics.mjs - the metrics page as the head of support, a dispatcher and an engineer see it:
// the last full month by default, its headline figures equal to the API's, the breakdown by
// category with one row per category and the API's counts, the same month as a from/to
// period, a period that ends before it begins refused with fieldd's sentence, the monthly
// report (HTML) opened from its link and its CSV, the dispatcher's view without the report,
// and the engineer refused with fieldd's sentence and no link to the page.
//
// Configuration (from test_metrics_page.py): base, chromium, artifacts, head, dispatcher,
// engineer (tokens), month (YYYY-MM), totals (the API's totals of the month), categories (the
// API's groups by category), period_from, period_to, period (the API's answer for that period
// by category), bad_from, bad_to, bad_detail (fieldd's sentence for them), refused_detail
// (fieldd's sentence refusing an engineer).

import { Failure, check, run, signIn, waitText, waitUrl } from './lib.mjs';

// The figures as a person should read them, worked out here from the API's JSON.
const DASH = '—';
const pct = v => (v === null || v === undefined ? DASH : `${Number(v).toFixed(1)} %`);
const count = v => (v === null || v === undefined ? DASH : String(v));
const fixed = (v, d) => (v === null || v === undefined ? DASH : Number(v).toFixed(d));
function duration(seconds) {
    if (seconds === null || seconds === undefined)
        return DASH;
    const min = Math.round(seconds / 60);
    const h = Math.floor(min / 60);
    const m = min % 60;
    return h === 0 ? `${m} min` : `${h} h ${m < 10 ? '0' + m : m} min`;
}

function headline(t) {
    return {
        'first_contact.met_pct': pct(t.first_contact.met_pct),
        'first_contact.breached': count(t.first_contact.breached),
        'first_contact.median': duration(t.first_contact.median_seconds),
        'first_contact.p90': duration(t.first_contact.p90_seconds),
        'first_contact.max': duration(t.first_contact.max_seconds),
        'resolution.met_pct': pct(t.resolution.met_pct),
        'resolution.breached': count(t.resolution.breached),
        'resolution.median': duration(t.resolution.median_seconds),
        'resolution.p90': duration(t.resolution.p90_seconds),
        'resolution.max': duration(t.resolution.max_seconds),
        'opened': count(t.opened),
        'resolved': count(t.resolved),
        'backlog_at_end': count(t.backlog_at_end),
        'repeats.rate_pct': pct(t.repeats.rate_pct),
        'reopens.rate_pct': pct(t.reopens.rate_pct),
        'first_time_fix.rate_pct': pct(t.first_time_fix.rate_pct),
        'csat.average': fixed(t.csat.average, 2),
        'csat.response_rate_pct': pct(t.csat.response_rate_pct),
        'nps.score': fixed(t.nps.score, 1),
        'visits.count': count(t.visits.count),
        'visits.minutes_on_site': duration(t.visits.minutes_on_site * 60),
        'projects': `${t.projects.started} / ${t.projects.finished} / ${t.projects.late}`,
    };
}

function groupCells(g) {
    return {
        label: g.label.replace(/_/g, ' '),
        opened: count(g.opened),
        resolved: count(g.resolved),
        backlog_at_end: count(g.backlog_at_end),
        'first_contact.met_pct': pct(g.first_contact.met_pct),
        'first_contact.breached': count(g.first_contact.breached),
        'resolution.met_pct': pct(g.resolution.met_pct),
        'resolution.breached': count(g.resolution.breached),
        'resolution.median': duration(g.resolution.median_seconds),
        'csat.average': fixed(g.csat.average, 2),
        'nps.score': fixed(g.nps.score, 1),
        'visits.count': count(g.visits.count),
    };
}

// Wait until the page has shown the answer to query (the figures, or the sentence refusing it).
async function settled(page, query, state = 'ready') {
    try {
        await page.waitForFunction(([q, s]) => {
            const r = document.querySelector('#results');
            return r && r.dataset.query === q && r.dataset.state === s;
        }, [query, state], { timeout: 20000, polling: 100 });
    } catch {
        const now = await page.evaluate(() => {
            const r = document.querySelector('#results');
            return r ? `${r.dataset.state} ${r.dataset.query}` : '(no #results)';
        }).catch(() => '?');
        throw new Failure(`the page did not show ${query} (${state}); it shows ${now}, ` +
                        `problem: ${await page.locator('#problem').innerText().catch(() => '')}`);
    }
}

async function figures(page) {
    return page.$$eval('[data-figure]', els => Object.fromEntries(
        els.filter(e => e.offsetParent !== null).map(e => [e.dataset.figure, e.innerText.trim()])));
}

function compare(what, shown, expected) {
    for (const [key, want] of Object.entries(expected))
        check(shown[key] === want, `${what}: ${key} shows ${JSON.stringify(shown[key])}, ` +
                                   `the API says ${JSON.stringify(want)}`);
}

async function tableRows(page) {
    return page.$$eval('#groups tbody tr', trs => trs.map(tr => ({
        key: tr.dataset.key,
        cells: Object.fromEntries([...tr.querySelectorAll('[data-col]')]
            .map(c => [c.dataset.col, c.innerText.trim()])),
    })));
}

async function checkGroups(page, what, groups) {
    const rows = await tableRows(page);
    check(rows.length === groups.length,
          `${what}: ${rows.length} rows for ${groups.length} categories of the API`);
    for (const g of groups) {
        const row = rows.find(r => r.key === String(g.key));
        check(row, `${what}: no row for category ${g.key}`);
        compare(`${what}, ${g.key}`, row.cells, groupCells(g));
    }
}

async function navLinks(page) {
    return page.$$eval('header.top a', as => as.map(a => a.textContent.trim()));
}

run('metrics', async ({ cfg, newPage, log }) => {
    const page = await newPage();
    await signIn(page, cfg.base, cfg.head, '/ui/metrics.html');
    await waitUrl(page, /\/ui\/metrics\.html/);

    // The last full month by default, in the browser's calendar.
    const lastMonth = await page.evaluate(() => {
        const d = new Date();
        d.setDate(1);
        d.setMonth(d.getMonth() - 1);
        return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}`;
    });
    await settled(page, `month=${lastMonth}`);
    check(await page.inputValue('#month') === lastMonth,
          `the month shown is ${await page.inputValue('#month')}, not ${lastMonth}`);
    check((await navLinks(page)).includes('Metrics'), 'the head has no "Metrics" link');
    if (lastMonth !== cfg.month) {
        // Just after the turn of a month the browser's calendar and the reporting zone differ.
        log(`the browser's last month is ${lastMonth}, the reporting zone's ${cfg.month}`);
        await page.fill('#month', cfg.month);
        await page.click('#show');
        await settled(page, `month=${cfg.month}`);
    }

    // The headline figures are the API's.
    const expected = headline(cfg.totals);
    compare(`headline of ${cfg.month}`, await figures(page), expected);
    log('headline', JSON.stringify(expected));
    check(!(await page.locator('#groups-section').isVisible()), 'a table without a breakdown');

    // The monthly report's links; the HTML report opens in a page of its own.
    const reportUrl = `/api/v1/reports/monthly?month=${cfg.month}&format=html`;
    check(await page.getAttribute('#report-html', 'href') === reportUrl,
          `"Monthly report" links to ${await page.getAttribute('#report-html', 'href')}`);
    check((await page.locator('#report-html').innerText()).trim() === 'Monthly report',
          'the link does not read "Monthly report"');
    const csvHref = await page.getAttribute('#report-csv', 'href');
    check(csvHref === `/api/v1/reports/monthly?month=${cfg.month}&format=csv`,
          `CSV links to ${csvHref}`);
    const csv = await page.request.get(cfg.base + csvHref);
    check(csv.status() === 200, `the CSV answered ${csv.status()}`);
    const csvType = csv.headers()['content-type'] || '';
    check(/^text\/csv/.test(csvType), `the CSV came as ${csvType}`);
    check((await csv.text()).startsWith('number,'), 'the CSV does not start with its header');
    const [report] = await Promise.all([
        page.context().waitForEvent('page', { timeout: 30000 }),
        page.click('#report-html'),
    ]);
    await report.waitForLoadState('load', { timeout: 30000 });
    const title = await report.title();
    check(/Service report/.test(title), `the report page's title is "${title}" (${report.url()})`);
    check(report.url() === cfg.base + reportUrl, `the report opened at ${report.url()}`);
    await report.close();

    // By category: one row per category, with the API's counts, and the total under them.
    await page.selectOption('#by', 'category');
    await settled(page, `month=${cfg.month}&by=category`);
    await waitText(page, '#groups-title', 'By category');
    await checkGroups(page, 'by category', cfg.categories);
    const foot = await page.$$eval('#groups tfoot [data-col]', cs =>
        Object.fromEntries(cs.map(c => [c.dataset.col, c.innerText.trim()])));
    check(foot.opened === String(cfg.totals.opened), `the total row shows ${foot.opened} opened`);
    check(new URL(page.url()).search === `?month=${cfg.month}&by=category`,
          `the address keeps the choice: ${page.url()}`);
    // The choice survives a reload.
    await page.reload();
    await settled(page, `month=${cfg.month}&by=category`);
    check(await page.inputValue('#by') === 'category', 'the breakdown is lost on reload');

    // The same month as a from/to period.
    await page.selectOption('#mode', 'period');
    await page.fill('#from', cfg.period_from);
    await page.fill('#to', cfg.period_to);
    await page.click('#show');
    const periodQuery = `from=${cfg.period_from}&to=${cfg.period_to}&by=category`;
    await settled(page, periodQuery);
    compare('the from/to period', await figures(page), headline(cfg.period.totals));
    await checkGroups(page, 'the period by category', cfg.period.groups);
    check(!(await page.locator('#report-links').isVisible()),
          'the monthly report is offered for a from/to period');

    // A period that ends before it begins: fieldd's sentence, and no figures left on screen.
    await page.fill('#from', cfg.bad_from);
    await page.fill('#to', cfg.bad_to);
    await page.click('#show');
    await settled(page, `from=${cfg.bad_from}&to=${cfg.bad_to}&by=category`, 'error');
    const said = await waitText(page, '#problem', cfg.bad_detail);
    check(said.trim() === cfg.bad_detail,
          `the problem reads "${said}", fieldd said "${cfg.bad_detail}"`);
    check(!(await page.locator('#headline').isVisible()),
          'figures stay on screen under the refusal');
    // Back to a good period: the sentence goes away.
    await page.fill('#from', cfg.period_from);
    await page.fill('#to', cfg.period_to);
    await page.click('#show');
    await settled(page, periodQuery);
    check(!(await page.locator('#problem').isVisible()), 'the refusal stays after a good period');

    // A dispatcher sees the figures, but not the report (admin and head only).
    const disp = await newPage();
    await signIn(disp, cfg.base, cfg.dispatcher, `/ui/metrics.html?month=${cfg.month}`);
    await settled(disp, `month=${cfg.month}`);
    compare('the dispatcher\'s headline', await figures(disp), expected);
    check((await navLinks(disp)).includes('Metrics'), 'the dispatcher has no "Metrics" link');
    check(!(await disp.locator('#report-html').isVisible()),
          'the dispatcher is offered the report');

    // An engineer: no link to the page, and fieldd's refusal when opened anyway.
    const eng = await newPage();
    await signIn(eng, cfg.base, cfg.engineer, '/ui/metrics.html');
    await settled(eng, `month=${lastMonth}`, 'error');
    const refusal = await waitText(eng, '#problem', cfg.refused_detail);
    check(refusal.trim() === cfg.refused_detail, `the engineer reads "${refusal}"`);
    check(!(await navLinks(eng)).includes('Metrics'), 'an engineer is linked to the metrics');
    check(!(await eng.locator('#headline').isVisible()), 'an engineer sees figures');
    check(!(await eng.locator('#controls').isVisible()), 'an engineer is offered the controls');
});
