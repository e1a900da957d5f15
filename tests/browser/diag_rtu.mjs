// SPDX-License-Identifier: MIT
// diag_rtu.mjs - the RTU side of the transport form: the engineer scans a simulated RS-485
// line on a pseudo-terminal (serial port, baud, parity from the form) and sees exactly the
// units on it found; a scan of the whole line stopped from the page ends with the reason;
// a port that does not exist ends the session failed, and the page shows the driver's
// sentence naming the port.

import { run, check, waitText, signIn } from './lib.mjs';

async function runRtu(page, port) {
    await page.selectOption('#transport', 'rtu');
    await page.fill('#port', port);
    await page.selectOption('#baud', '19200');
    await page.selectOption('#parity', 'E');
    await page.fill('#unit_from', '1');
    await page.fill('#unit_to', '6');
    await page.fill('#timeout_ms', '300');
    await page.click('#run');
    await waitText(page, '#live-status', /complete|partial|failed/, 90000);
}

run('diag_rtu', async ({ cfg, newPage, log }) => {
    const page = await newPage();
    await signIn(page, cfg.base, cfg.eng1, '/ui/job.html?id=' + cfg.job_id);
    await waitText(page, '#title', cfg.job_title);

    log('scan the line: units 1 and 5 answer, nothing else');
    await runRtu(page, cfg.pty);
    await waitText(page, '#live-status', 'complete');
    check(await page.locator('#live-reason').isHidden(), 'no reason shown for a complete session');
    await waitText(page, '#progress', `Found unit 1: TC-200 serial ${cfg.serial1}`);
    await waitText(page, '#progress', `Found unit 5: RC-50 serial ${cfg.serial5}`);
    const text = await page.locator('#progress').innerText();
    for (const absent of [2, 3, 4, 6])
        check(!text.includes(`Found unit ${absent}:`), `unit ${absent} is not on the line: ${text}`);

    log('a long scan stopped from the page ends with the reason');
    await page.selectOption('#transport', 'rtu');
    await page.fill('#port', cfg.pty);
    await page.fill('#unit_from', '1');
    await page.fill('#unit_to', '247');
    await page.fill('#timeout_ms', '200');
    await page.click('#run');
    await waitText(page, '#progress', /Unit 5 on .* answered/, 30000);
    await page.click('#stop');
    await waitText(page, '#live-status', /partial|failed/, 30000);
    await waitText(page, '#live-reason', /stopped by/);
    check(await page.locator('#stop').isHidden(), 'no Stop button once the session ended');

    log('a port that does not exist: the session fails and says why');
    await runRtu(page, '/dev/ttyACS-no-such-port');
    await waitText(page, '#live-status', 'failed');
    await waitText(page, '#progress', /Finished: failed — .*ttyACS-no-such-port/);
    await waitText(page, '#live-reason', /ttyACS-no-such-port/);
    await waitText(page, '#sessions tbody tr:first-child', /failed/);
});
