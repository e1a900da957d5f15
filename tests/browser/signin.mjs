// SPDX-License-Identifier: MIT
// signin.mjs - signing in and out as a person does: a visitor who is not signed in is sent to
// the sign-in page and back after it; a malformed and an unknown token are refused with the
// reason; the engineer lands on "My jobs" and sees their job and not a colleague's; the token
// is not readable by scripts (HttpOnly cookie); a change without the CSRF header is refused;
// an unknown page is a 404 page; after signing out the pages ask for sign-in again.

import { run, check, waitText, waitUrl, signIn } from './lib.mjs';

run('signin', async ({ cfg, newPage, log }) => {
    const base = cfg.base;
    const page = await newPage();

    log('a visitor who is not signed in is sent to sign-in');
    await page.goto(base + '/ui/jobs.html');
    await waitUrl(page, /\/ui\/signin\.html\?next=%2Fui%2Fjobs\.html$/);
    await page.goto(base + '/');
    await waitUrl(page, /\/ui\/signin\.html/);

    log('a malformed token is refused before it is sent');
    await page.fill('#token', 'not-a-token');
    await page.click('#submit');
    await waitText(page, '#problem', 'That is not a token');

    log('an unknown token is refused with fieldd\'s reason');
    await page.fill('#token', cfg.unknown_token);
    await page.click('#submit');
    await waitText(page, '#problem', /Sign-in refused: the bearer token is unknown or revoked/);
    check(page.url().includes('/ui/signin.html'), 'still on the sign-in page after a refusal');

    log('the engineer signs in and is sent back to the jobs page');
    await page.fill('#token', cfg.eng1);
    await page.click('#submit');
    await waitUrl(page, /\/ui\/jobs\.html$/);
    await waitText(page, '#title', 'My jobs');
    await waitText(page, '#who', cfg.eng1_name);
    await waitText(page, '#jobs tbody', cfg.job_title);
    const list = await page.locator('#jobs tbody').innerText();
    check(!list.includes(cfg.other_job_title),
          `an engineer's list must not show a colleague's job "${cfg.other_job_title}": ${list}`);
    await waitText(page, `#jobs tr[data-id="${cfg.job_id}"]`, /assigned/);

    log('the job is planned in two days: not today, but this week');
    await page.selectOption('#when', 'today');
    await waitText(page, '#empty', 'No jobs here');
    await page.selectOption('#when', 'week');
    await waitText(page, '#jobs tbody', cfg.job_title);
    await page.selectOption('#when', '');

    log('the token is in an HttpOnly cookie that scripts cannot read');
    const cookies = await page.evaluate(() => document.cookie);
    check(!cookies.includes('acs_'), `document.cookie must not expose the token: ${cookies}`);

    log('a change signed in by cookie but without X-ACS-CSRF is refused');
    const csrf = await page.evaluate(async id => {
        const r = await fetch(`/api/v1/jobs/${id}/en_route`, { method: 'POST' });
        return { status: r.status, body: await r.json() };
    }, cfg.job_id);
    check(csrf.status === 403 && /X-ACS-CSRF/.test(csrf.body.detail),
          `POST without the CSRF header: expected 403 naming X-ACS-CSRF, got ${JSON.stringify(csrf)}`);

    log('an unknown page is a 404 page');
    const resp = await page.goto(base + '/ui/no-such-page.html');
    check(resp.status() === 404, `status of an unknown page: ${resp.status()}`);
    await waitText(page, 'h1', 'Page not found');

    log('signing out ends the session');
    await page.goto(base + '/ui/jobs.html');
    await page.click('#sign-out');
    await waitUrl(page, /\/ui\/signin\.html$/);
    await page.goto(base + '/ui/job.html?id=' + cfg.job_id);
    await waitUrl(page, /\/ui\/signin\.html\?next=/);

    log('a senior starts on the review list; the dispatcher on all jobs');
    await signIn(page, base, cfg.senior);
    await waitUrl(page, /\/ui\/review\.html/);
    const page2 = await newPage();
    await signIn(page2, base, cfg.dispatcher);
    await waitUrl(page2, /\/ui\/jobs\.html$/);
    await waitText(page2, '#title', /^Jobs$/);
    await waitText(page2, '#jobs tbody', cfg.other_job_title);
});
