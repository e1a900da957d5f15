// SPDX-License-Identifier: MIT
// job.mjs - an engineer's job page: from "My jobs" to the job, its ticket and site; "On my
// way" moves it and the page shows the new status; when the dispatcher cancels the job
// meanwhile, "Arrived on site" is refused and the page says why (fieldd's 409 detail); on a
// job on site the outcome form records the result and resolves the ticket.

import { run, check, waitText, waitUrl, signIn } from './lib.mjs';

run('job', async ({ cfg, newPage, log }) => {
    const base = cfg.base;
    const page = await newPage();
    await signIn(page, base, cfg.eng1, '/ui/jobs.html');
    await waitUrl(page, /\/ui\/jobs\.html$/);

    log('open the job from the list');
    await page.click(`#jobs tr[data-id="${cfg.job_id}"] a.job-link`);
    await waitUrl(page, new RegExp(`/ui/job\\.html\\?id=${cfg.job_id}$`));
    await waitText(page, '#title', cfg.job_title);
    await waitText(page, '#ticket-facts', cfg.ticket_subject);
    await waitText(page, '#ticket-facts', cfg.site_name);
    await waitText(page, '#facts', /Status\s+assigned/);

    log('on my way');
    await page.click('#act-en_route');
    await waitText(page, '#facts', /Status\s+en route/);
    check(await page.locator('#act-en_route').count() === 0, 'no "On my way" button once en route');

    log('the dispatcher cancels the job; arriving is refused with the reason');
    const r = await fetch(`${base}/api/v1/jobs/${cfg.job_id}/cancel`, {
        method: 'POST', headers: { Authorization: 'Bearer ' + cfg.dispatcher } });
    check(r.status === 200, `dispatcher's cancel: HTTP ${r.status}`);
    await page.click('#act-on_site');
    await waitText(page, '#action-problem', /cancelled/);
    await waitText(page, '#action-problem', /on_site/);

    log('on site: the outcome resolves the ticket');
    await page.goto(`${base}/ui/job.html?id=${cfg.onsite_job_id}`);
    await waitText(page, '#facts', /Status\s+on site/);
    await page.selectOption('#resolution_code', 'part_replaced');
    await page.fill('#time_on_site_min', '45');
    await page.fill('#outcome-notes', 'Replaced the reader head; three test cards read');
    await page.click('#outcome-submit');
    await waitText(page, '#facts', /Status\s+done/);
    await waitText(page, '#facts', /part replaced: Replaced the reader head/);
    await waitText(page, '#ticket-facts', /Ticket status\s+resolved/);
    check(await page.locator('#outcome-form').isHidden(), 'no outcome form once recorded');

    log('a job of another engineer is refused with the reason');
    await page.goto(`${base}/ui/job.html?id=${cfg.other_job_id}`);
    await waitText(page, '#page-problem', /./);
    const text = await page.locator('#page-problem').innerText();
    check(/not|forbidden|assigned|no job/i.test(text), `reason for another engineer's job: ${text}`);
});
