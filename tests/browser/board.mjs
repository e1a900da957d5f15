// SPDX-License-Identifier: MIT
// board.mjs - the dispatcher's board and the engineer's "my day", as people use them: the
// emergency ticket counts down in the at-risk list; the project whose survey is overdue is
// among the projects at risk; a job cancelled meanwhile is refused with fieldd's reason; a
// job dragged onto an engineer's day is assigned at the hour it was dropped on, and moved by
// dragging its block; a job nobody has the skills for is refused naming the rule, then
// assigned anyway with a reason, and the engineer's open "my day" shows it at once; a job
// assigned from fieldd's suggestions; the day plan previewed and accepted; a visit created
// from the at-risk list and assigned through the form; the SLA warning and breach that fire
// when the test clock moves show up without a reload; a senior sees the board read-only; the
// engineer finds the suggested job on "my day", sets off ("On my way") and opens it, and the
// board shows them en route.
//
// Configuration (from test_board.py): base, chromium, artifacts, day (YYYY-MM-DD shown),
// conninfo (psql, for the SLA test clock), tokens dispatcher, senior and eng1, eng1_id,
// eng2_id, eng1_name, urgent_id, urgent_subject, urgent_number, project_id, project_name,
// quiet_id, quiet_subject, quiet_number (a ticket without a job), jobs {job1..job5, booking1,
// booking2: {id, title}}.

import { execFileSync } from 'node:child_process';
import { run, check, waitText, waitUrl, signIn, Failure } from './lib.mjs';

function setClock(cfg, offset) {
    execFileSync('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', cfg.conninfo, '-c',
        `INSERT INTO acs_test_clock (offset_by) VALUES ('${offset}'::interval)` +
        ' ON CONFLICT (id) DO UPDATE SET offset_by = EXCLUDED.offset_by;'], { stdio: 'pipe' });
}

async function call(cfg, method, path, token, body) {
    const r = await fetch(cfg.base + '/api/v1' + path, {
        method, headers: { Authorization: 'Bearer ' + token,
                           ...(body ? { 'Content-Type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined });
    const data = await r.json().catch(() => null);
    return { status: r.status, data };
}

async function waitFor(page, fn, arg, what, timeout = 15000) {
    try {
        await page.waitForFunction(fn, arg, { timeout, polling: 100 });
    } catch {
        throw new Failure(`${what} within ${timeout} ms (on ${page.url()})`);
    }
}

// Wait until the block of job id on engineerId's day says it runs over range ("10:00–11:00").
async function waitBlock(page, engineerId, id, range) {
    const sel = `.tl-track[data-engineer="${engineerId}"] .tl-block[data-id="${id}"]`;
    await waitFor(page, ([s, r]) => {
        const el = document.querySelector(s);
        return el && (el.getAttribute('aria-label') || '').startsWith(r) &&
            el.innerText.startsWith(r.slice(0, 5));
    }, [sel, range], `the block of ${id} on ${engineerId}'s day should run ${range}`);
}

// Drag the element source onto the day of engineerId at the hour label "HH:00" of the axis.
async function dropAt(page, source, engineerId, hourLabel) {
    const track = page.locator(`.tl-track[data-engineer="${engineerId}"]`);
    const label = page.locator('.tl-axis .tl-hour', { hasText: hourLabel }).first();
    const tb = await track.boundingBox();
    const lb = await label.boundingBox();
    check(tb && lb, `the timeline shows engineer ${engineerId} and the hour ${hourLabel}`);
    await page.dragAndDrop(source, `.tl-track[data-engineer="${engineerId}"]`, {
        targetPosition: { x: lb.x + lb.width / 2 - tb.x, y: tb.height / 2 } });
}

run('board', async ({ cfg, newPage, log }) => {
    const J = cfg.jobs;
    const page = await newPage();
    await signIn(page, cfg.base, cfg.dispatcher, `/ui/board.html?day=${cfg.day}`);
    await waitUrl(page, /\/ui\/board\.html\?day=/);

    log('the emergency ticket counts down in the at-risk list');
    const risk = `#risk-list li[data-ticket="${cfg.urgent_id}"]`;
    await waitText(page, risk, cfg.urgent_subject);
    await waitText(page, risk, `#${cfg.urgent_number}`);
    await waitText(page, risk, /first contact due \d\d:\d\d/);
    const first = await waitText(page, `${risk} .countdown`, /^1[0-4]:\d\d$/);
    await waitFor(page, ([sel, was]) => {
        const el = document.querySelector(sel);
        return el && el.textContent !== was;
    }, [`${risk} .countdown`, first], 'the countdown should tick');
    check(await page.getAttribute(risk, 'data-state') === 'ok', 'no warning yet');
    await waitText(page, '#live-state', 'live');

    log('the project whose survey is overdue');
    await waitText(page, `#projects li[data-id="${cfg.project_id}"]`, cfg.project_name);
    await waitText(page, `#projects li[data-id="${cfg.project_id}"] .reasons`, /survey.*planned to end/);

    log('unassigned jobs and the engineers\' days');
    for (const k of ['job1', 'job2', 'job3', 'job4'])
        await waitText(page, `#unassigned li[data-id="${J[k].id}"]`, J[k].title);
    await waitBlock(page, cfg.eng1_id, J.booking1.id, '15:00–16:00');
    await waitBlock(page, cfg.eng2_id, J.booking2.id, '16:00–17:00');

    log('the engineer keeps "my day" open on that day');
    const eng = await newPage();
    await signIn(eng, cfg.base, cfg.eng1, `/ui/myday.html?day=${cfg.day}`);
    await waitUrl(eng, /\/ui\/myday\.html/);
    await waitText(eng, `#stops li[data-id="${J.booking1.id}"]`, J.booking1.title);
    await waitText(eng, '#shift', /Shift 07:00–21:00/);
    await eng.evaluate(() => { window.mydayNotReloaded = true; });

    // First, while no live event is about to reload the list: fieldd sends no event for a
    // cancellation, so the card stays on the board as it would for a dispatcher.
    log('a job cancelled meanwhile is refused with fieldd\'s reason');
    const c = await call(cfg, 'POST', `/jobs/${J.job3.id}/cancel`, cfg.dispatcher);
    check(c.status === 200, `cancel job3: HTTP ${c.status}`);
    await dropAt(page, `#unassigned li[data-id="${J.job3.id}"]`, cfg.eng1_id, '11:00');
    await waitText(page, '#assign-problem', /cancelled/);
    await waitText(page, '#assign-title', J.job3.title);
    check(await page.locator('#override-form').isHidden(),
          'a job in the wrong state cannot be assigned anyway');
    await page.click('#assign-cancel');
    check(await page.locator('#assign-panel').isHidden(), 'Close hides the panel');

    log('drag and drop: job2 onto eng2\'s day at 10:00');
    await dropAt(page, `#unassigned li[data-id="${J.job2.id}"]`, cfg.eng2_id, '10:00');
    await waitText(page, '#notice', `Assigned “${J.job2.title}”`);
    await waitText(page, '#notice', /10:00–11:00/);
    await waitBlock(page, cfg.eng2_id, J.job2.id, '10:00–11:00');
    await waitFor(page, id => !document.querySelector(`#unassigned li[data-id="${id}"]`), J.job2.id,
                  'job2 should leave the unassigned list');
    check(await page.locator('#assign-panel').isHidden(), 'no panel after a successful drop');

    log('the block moved an hour earlier on the same day');
    const block2 = `.tl-track[data-engineer="${cfg.eng2_id}"] .tl-block[data-id="${J.job2.id}"]`;
    await dropAt(page, block2, cfg.eng2_id, '09:00');
    await waitText(page, '#notice', /09:00–10:00/);
    await waitBlock(page, cfg.eng2_id, J.job2.id, '09:00–10:00');

    log('a job nobody has the skills for: refused naming the rule, then overridden');
    await dropAt(page, `#unassigned li[data-id="${J.job4.id}"]`, cfg.eng1_id, '12:00');
    await waitText(page, '#assign-reasons', /commissioning/);
    const detail = await page.locator('#assign-problem').innerText();
    check(detail.trim().length > 0, 'the refusal has fieldd\'s detail');
    check(await page.locator('#override-form').isVisible(), 'a rule may be overridden');
    await page.click('#assign-alternatives');
    await waitText(page, `#unassigned li[data-id="${J.job4.id}"] ul.suggestions`, /finds no engineer/);
    await page.click('#override-submit');
    check(await page.locator('#assign-panel').isVisible(), 'an override needs a reason');
    await page.fill('#override-reason', 'Only commissioning-trained engineer nearby is on leave');
    await page.click('#override-submit');
    await waitText(page, '#notice', /rules overridden/);
    await waitBlock(page, cfg.eng1_id, J.job4.id, '12:00–13:00');

    log('"my day" shows job4 without a reload');
    await waitText(eng, `#stops li[data-id="${J.job4.id}"]`, J.job4.title);
    await waitText(eng, `#stops li[data-id="${J.job4.id}"]`, '12:00–13:00');
    check(await eng.evaluate(() => window.mydayNotReloaded === true), '"my day" was not reloaded');

    log('job1 from fieldd\'s suggestions');
    await page.click(`#unassigned li[data-id="${J.job1.id}"] .suggest-button`);
    const sugg = `#unassigned li[data-id="${J.job1.id}"] li.suggestion[data-engineer="${cfg.eng1_id}"]`;
    await waitText(page, sugg, /./);
    await page.click(`${sugg} .suggestion-assign`);
    await waitText(page, '#notice', `Assigned “${J.job1.title}”`);
    await waitFor(page, id => !document.querySelector(`#unassigned li[data-id="${id}"]`), J.job1.id,
                  'job1 should leave the unassigned list');

    log('the day plan places job5, and accepting it assigns it');
    await page.click('#plan-preview');
    await waitText(page, `#plan-body li.planned[data-job="${J.job5.id}"]`, /\d\d:\d\d–\d\d:\d\d/);
    await waitText(page, '#plan-body', /1 of 1 jobs planned/);
    await page.click('#plan-accept');
    await waitText(page, '#notice', /The plan was accepted: 1 job assigned\./);
    await waitFor(page, id => document.querySelector(`.tl-track .tl-block[data-id="${id}"]`), J.job5.id,
                  'job5 should appear on an engineer\'s day');
    check(await page.locator('#plan-card').isHidden(), 'the preview closes once accepted');
    const j1 = await call(cfg, 'GET', `/jobs/${J.job1.id}`, cfg.dispatcher);
    check(j1.data && j1.data.engineer_id === cfg.eng1_id, `job1 is eng1's: ${JSON.stringify(j1.data)}`);
    const start1 = new Date(j1.data.planned_start);
    const day1 = `${start1.getFullYear()}-${String(start1.getMonth() + 1).padStart(2, '0')}-` +
        String(start1.getDate()).padStart(2, '0');
    const hm1 = `${String(start1.getHours()).padStart(2, '0')}:${String(start1.getMinutes()).padStart(2, '0')}`;

    log('the at-risk list says who goes for the emergency, and creates a visit for a ticket');
    await waitText(page, `${risk} .risk-job`, new RegExp(`assigned: ${cfg.eng1_name}`));
    const quiet = `#risk-list li[data-ticket="${cfg.quiet_id}"]`;
    await waitText(page, `${quiet} .risk-job`, 'no job yet');
    await page.click(`${quiet} .create-visit`);
    await waitText(page, '#notice', `A visit for #${cfg.quiet_number} was created`);
    await waitText(page, '#unassigned', cfg.quiet_subject);
    await waitText(page, `${quiet} .risk-job`, 'job waiting to be assigned');
    await waitText(page, '#unassigned li.suggestion', /arrives/);
    log('the visit assigned through the Assign form');
    const visitCard = page.locator('#unassigned li.job-card', { hasText: cfg.quiet_subject });
    await visitCard.locator('.assign-button').click();
    await page.selectOption('#assign-engineer', cfg.eng2_id);
    await page.fill('#assign-start', `${cfg.day}T13:00`);
    await page.fill('#assign-minutes', '45');
    await page.click('#assign-submit');
    await waitText(page, '#notice', `Assigned “${cfg.quiet_subject}”`);
    await waitText(page, '#notice', /13:00–13:45/);
    await waitText(page, `.tl-track[data-engineer="${cfg.eng2_id}"]`, cfg.quiet_subject.slice(0, 10));

    log('an SLA warning arrives over the live stream: the board changes without a reload');
    await page.evaluate(() => { window.boardNotReloaded = true; });
    setClock(cfg, '13 minutes');
    await waitFor(page, sel => {
        const el = document.querySelector(sel);
        return el && el.dataset.state === 'warning';
    }, risk, 'the at-risk card should turn to warning');
    await waitText(page, '#feed', new RegExp(`SLA warning: #${cfg.urgent_number} `));
    await waitText(page, risk, /warning/);
    await waitText(page, `${risk} .countdown`, /^[0-2]:\d\d$/);
    log('then the breach');
    setClock(cfg, '16 minutes');
    await waitFor(page, sel => {
        const el = document.querySelector(sel);
        return el && el.dataset.state === 'breach';
    }, risk, 'the at-risk card should turn to breached');
    await waitText(page, '#feed', new RegExp(`SLA breached: #${cfg.urgent_number} `));
    await waitText(page, risk, /breached/);
    await waitText(page, `${risk} .countdown`, /^overdue \d+:\d\d$/);
    check(await page.evaluate(() => window.boardNotReloaded === true), 'the page was not reloaded');

    log('the engineer finds job1 on "my day"');
    await eng.goto(`${cfg.base}/ui/myday.html?day=${day1}`);
    const stop = `#stops li[data-id="${J.job1.id}"]`;
    await waitText(eng, stop, J.job1.title);
    await waitText(eng, stop, hm1);
    await waitText(eng, stop, cfg.urgent_subject);
    await waitText(eng, stop, 'Tverskaya 1');
    check(await eng.locator(`#stops li[data-id="${J.job2.id}"]`).count() === 0,
          'eng2\'s job is not on eng1\'s day');
    await waitText(eng, `${stop} .next-flag`, /next/i);

    log('"On my way" from "my day"');
    await eng.click(`${stop} .act-en_route`);
    await waitText(eng, stop, /en route/);
    await waitText(eng, `${stop} .act-on_site`, 'Arrived on site');
    await eng.click(`${stop} a.job-link`);
    await waitUrl(eng, new RegExp(`/ui/job\\.html\\?id=${J.job1.id}$`));
    await waitText(eng, '#title', J.job1.title);
    await waitText(eng, '#facts', /Status\s+en route/);

    log('a senior sees the board without the assignment controls; an engineer gets "my day"');
    const senior = await newPage();
    await signIn(senior, cfg.base, cfg.senior, `/ui/board.html?day=${cfg.day}`);
    await waitText(senior, risk, cfg.urgent_subject);
    await waitBlock(senior, cfg.eng2_id, J.job2.id, '09:00–10:00');
    check(await senior.locator('#plan-preview').isHidden(), 'no plan button for a senior');
    check(await senior.locator('.create-visit').count() === 0, 'no "Create a visit" for a senior');
    check(await senior.locator('.tl-block[draggable="true"]').count() === 0, 'no block to drag');
    await eng.goto(`${cfg.base}/ui/board.html`);
    await waitUrl(eng, /\/ui\/myday\.html$/);

    log('the board shows the engineer on the way');
    await page.goto(`${cfg.base}/ui/board.html?day=${day1}`);
    await waitText(page, `.tl-row[data-engineer="${cfg.eng1_id}"] .tl-name`, `en route: ${J.job1.title}`);
    await waitBlock(page, cfg.eng1_id, J.job1.id, hm1);
});
