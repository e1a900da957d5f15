// SPDX-License-Identifier: MIT
// diag.mjs - diagnostics from the browser against acs-sim: the engineer runs diagnostics on
// the job page over Modbus TCP against a simulated TC-200 with a low supply and an open
// housing, and sees the findings appear live; the checklist shows the failed supply item,
// takes a ticked item with a note, and "Done" is refused naming the failing item. A senior
// finds the session by serial, reads its readings and raw frames, adds an unknown reader
// controller (a second endpoint) to the inventory, and sends the session back with a comment;
// the engineer sees that verdict on the job and beeps the unit from the session page (after
// confirming; a dismissed reboot sends nothing). After the faults are cleared a second run has
// no findings (caught up from the stored session if it ended before the stream connected),
// and the comparison of the two runs shows them removed. No test card was read on the reader,
// so "Done" stays refused until a senior overrides the checklist with a reason.

import net from 'node:net';
import { run, check, waitText, waitUrl, signIn } from './lib.mjs';

// One command on acs-sim's control channel; resolves to the final "ok ..." line.
function simControl(host, port, line) {
    return new Promise((resolve, reject) => {
        const sock = net.connect(port, host, () => sock.write(line + '\n'));
        let buf = '';
        sock.on('data', d => {
            buf += d;
            const last = buf.split('\n').find(l => l.startsWith('ok') || l.startsWith('error'));
            if (last) {
                sock.end();
                last.startsWith('ok') ? resolve(last) : reject(new Error(`acs-sim: ${line}: ${last}`));
            }
        });
        sock.on('error', reject);
        setTimeout(() => reject(new Error(`acs-sim control did not answer ${line}`)), 10000);
    });
}

async function runDiagnostics(page, cfg) {
    await page.selectOption('#transport', 'tcp');
    await page.fill('#endpoints', cfg.endpoints);
    await page.fill('#unit_from', '1');
    await page.fill('#unit_to', '1');
    await page.fill('#timeout_ms', '2000');
    await page.click('#run');
    await waitText(page, '#live-status', /complete|partial|failed/, 60000);
}

run('diag', async ({ cfg, newPage, log }) => {
    const base = cfg.base;
    const eng = await newPage();
    await signIn(eng, base, cfg.eng1, '/ui/job.html?id=' + cfg.job_id);
    await waitText(eng, '#title', cfg.job_title);
    await waitText(eng, '#no-sessions', 'No diagnostics yet');

    log('the engineer runs diagnostics against the simulated controller');
    await runDiagnostics(eng, cfg);
    await waitText(eng, '#live-status', 'complete');
    await waitText(eng, '#live-findings', 'TC_TAMPER');
    await waitText(eng, '#live-findings', 'TC_SUPPLY_VOLTAGE');
    // Each reply is held back (fault "late"), so the stream is connected long before the
    // unit's findings: they must have come over Server-Sent Events, not from the catch-up.
    check(await eng.locator('#live-findings li[data-source="live"][data-code="TC_TAMPER"]').count() === 1,
          'TC_TAMPER arrived over the live stream');
    await waitText(eng, '#progress', /Reading unit 1/);
    await waitText(eng, '#progress', `serial ${cfg.serial}`);
    await waitText(eng, '#sessions tbody', /complete/);
    const first = await eng.locator('#sessions tbody tr').first().getAttribute('data-id');

    log('the checklist: supply failed from the readings, a manual item ticked with a note');
    await waitText(eng, `#checklist tbody tr[data-key="supply_voltage"][data-serial="${cfg.serial}"]`, /fail/);
    const manual = eng.locator(`#checklist tbody tr[data-key="passage_test"][data-serial="${cfg.serial}"]`);
    await manual.locator('select.tick-status').selectOption('pass');
    await manual.locator('input.tick-note').fill('passed both ways, card and button');
    await manual.locator('button.tick-save').click();
    await waitText(eng, `#checklist tbody tr[data-key="passage_test"][data-serial="${cfg.serial}"]`, /pass/);

    log('"Done" is refused while a required item fails, and the page says which');
    const [refusal] = await Promise.all([
        eng.waitForResponse(r => r.url().endsWith(`/jobs/${cfg.job_id}/done`)),
        eng.click('#act-done')]);
    check(refusal.status() === 409, `"done" with a failing checklist: HTTP ${refusal.status()}, expected 409`);
    await waitText(eng, '#action-problem', /supply_voltage/);

    log('the senior finds the session by serial and reviews it');
    const sen = await newPage();
    await signIn(sen, base, cfg.senior);
    await waitUrl(sen, /\/ui\/review\.html/);
    await sen.fill('#serial', cfg.serial);
    await sen.click('#search-button');
    await waitText(sen, `#sessions tr[data-id="${first}"]`, /complete/);
    await sen.click(`#sessions tr[data-id="${first}"] a.session-link`);
    await waitUrl(sen, new RegExp(`/ui/session\\.html\\?id=${first}$`));
    await waitText(sen, '#units', cfg.serial);
    await waitText(sen, `#units tr[data-serial="${cfg.reader_serial}"]`, /not in inventory/);
    await sen.click(`#units tr[data-serial="${cfg.reader_serial}"] button.add-unit`);
    await waitText(sen, `#units tr[data-serial="${cfg.reader_serial}"]`, /linked/);
    await waitText(sen, '#readings tr[data-name="supply_voltage"]', /11(\.0)?/);
    await waitText(sen, '#findings', 'TC_TAMPER');
    await waitText(sen, '#frames tbody', /tx/);
    const hex = await sen.locator('#frames tbody td.hex').first().innerText();
    check(/^[0-9a-f]{2}( [0-9a-f]{2})+$/i.test(hex.trim()), `a frame's hex: ${hex}`);

    log('a verdict needs a comment to send the session back');
    await sen.check('#v-rework');
    await sen.click('#review-submit');
    await waitText(sen, '#review-problem', 'comment is required');
    await sen.fill('#comment', 'Supply is 11 V: replace the PSU, then run again');
    await sen.click('#review-submit');
    await waitText(sen, '#verdict', /Needs rework.*replace the PSU/);

    log('the engineer sees the verdict on the job');
    await eng.reload();
    await waitText(eng, '#verdict', /Needs rework.*replace the PSU/);

    log('the engineer beeps the unit from the session page; a dismissed action sends nothing');
    await eng.click(`#sessions tr[data-id="${first}"] a.session-link`);
    await waitText(eng, `#units tr[data-serial="${cfg.serial}"]`, 'TC-200');
    const row = eng.locator(`#units tr[data-serial="${cfg.serial}"]`);
    await row.locator('select.unit-action').selectOption('reboot');
    eng.once('dialog', d => d.dismiss());
    await row.locator('button.run-action').click();
    await row.locator('select.unit-action').selectOption('beep');
    eng.once('dialog', d => {
        check(/beep.*unit 1/.test(d.message()), `the confirmation names the action and unit: ${d.message()}`);
        d.accept();
    });
    await row.locator('button.run-action').click();
    await waitText(eng, '#action-result', /beep on unit 1 .*: ok/);
    await eng.goto(`${base}/ui/job.html?id=${cfg.job_id}`);
    await waitText(eng, '#title', cfg.job_title);

    log('faults cleared, a second run finds nothing');
    await simControl(cfg.sim_host, cfg.sim_control, 'clear gate all');
    await runDiagnostics(eng, cfg);
    await waitText(eng, '#live-status', 'complete');
    await waitText(eng, '#progress', /Finished: complete/);
    await waitText(eng, '#progress', `serial ${cfg.serial}`);
    check(await eng.locator('#live-findings li').count() === 0,
          'no findings after the faults were cleared: ' + await eng.locator('#live-findings').innerText());
    await waitText(eng, `#checklist tbody tr[data-key="supply_voltage"][data-serial="${cfg.serial}"]`, /pass/);
    const second = await eng.locator('#sessions tbody tr').first().getAttribute('data-id');
    check(second && second !== first, 'the second session is listed first');

    log('the senior compares the two runs of the device');
    await sen.goto(`${base}/ui/compare.html?serial=${encodeURIComponent(cfg.serial)}&b=${second}`);
    await waitText(sen, '#findings-removed', 'TC_TAMPER');
    await waitText(sen, '#findings-removed', 'TC_SUPPLY_VOLTAGE');
    await waitText(sen, '#diff tr.changed[data-name="supply_voltage"]', /11/);

    log('no test card was read: "Done" is refused until a senior overrides the checklist');
    await eng.reload();
    await waitText(eng, `#checklist tbody tr[data-key="test_card"][data-serial="${cfg.reader_serial}"]`, /fail/);
    await eng.click('#act-done');
    await waitText(eng, '#action-problem', /test_card/);
    check(await eng.locator('#override-form').isHidden(), 'an engineer cannot override the checklist');
    await sen.goto(`${base}/ui/job.html?id=${cfg.job_id}`);
    await sen.click('#override-submit');
    await waitText(sen, '#checklist-problem', 'reason is required');
    await sen.fill('#override-reason', 'Reader tested with the client\'s own card; no test card on site');
    await sen.click('#override-submit');
    await waitText(sen, '#checklist-override', /overridden/);
    await eng.reload();
    await eng.click('#act-done');
    await waitText(eng, '#facts', /Status\s+done/);
});
