// What the operator can do in the window when the engine recovers (Debian's Chromium against the real
// `snapshot-manager serve` and a fault-injecting origin): resume a failed job, cancel with keep or
// delete, read a finished job's summary after a reload, close with Escape and keep focus, restart `serve`
// under a running and a paused job with the tab reconnecting by itself, read "stalled" during an outage,
// be told when the token is refused, and see a full destination pause the job until space is freed.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Page } from 'playwright-core';
import { FaultServer, chunkGet } from '../../harness/fault-server';
import { makeSnapshot, readTree } from './helpers/archive';
import { browserSkipped, openBrowser, type BrowserSession } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { addJob, pill, row, waitFor, withFailureShot } from './helpers/window';
import { serveRefusal, startServe, type ServeProcess } from './helpers/serve-process';
import { canMountTmpfs } from './helpers/tmpfs';

const MiB = 1024 * 1024;

async function activeElement(page: Page): Promise<string> {
  // A string, evaluated in the page (this file is compiled without the DOM's types).
  return page.evaluate<string>(`(() => {
    const el = document.activeElement;
    return el ? el.tagName.toLowerCase() + ':' + (el.getAttribute('aria-label') ?? el.textContent?.trim() ?? '') + ':' + el.className : '';
  })()`);
}

test('a failed job resumes from the window; Escape and focus; Settings refuses "abc"; the summary is there after a reload; the active job is selected; cancel asks keep or delete', {
  skip: browserSkipped(),
  timeout: 180_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-recovery-'));
  const archive = join(work, 'node-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [1.5 * MiB, 1.5 * MiB, 1.5 * MiB]);
  const sha = createHash('sha256').update(readFileSync(archive)).digest('hex');
  const origin = await FaultServer.start({ maxResponseMs: 90_000 });
  const url = await origin.serve('/snapshots/node-snapshot.tar.gz', { file: archive });
  const otherUrl = await origin.serve('/snapshots/other-snapshot.tar.gz', { file: archive });
  // A snapshot taken down for a while: chunk 2 answers 404 until the operator puts it back (a 403 now pauses
  // the job as link-expired instead of failing it: see test/ipc/replace-link.test.ts).
  let refused = true;
  origin.setPlan((r) => (refused && r.path.startsWith('/snapshots/node') && chunkGet(2 * MiB)(r) ? { kind: 'status', status: 404, body: 'gone' } : undefined));
  const serve = await startServe(join(work, 'state'));
  const browser: BrowserSession = await openBrowser();
  const { page } = browser;
  const name = 'node-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      // A destination that is not empty is said next to the field before any job exists, with the control that resolves it.
      await page.getByRole('button', { name: 'Add snapshot' }).click();
      await page.getByLabel('Snapshot URL').fill(url);
      await page.getByLabel('Destination').fill(work);
      await page.getByText(/is not empty \(\d+ entr(y|ies)\)\. Choose an empty folder/).waitFor();
      await page.getByLabel('Extract into a non-empty folder (or over an existing file)').waitFor();
      await page.screenshot({ path: screenshotPath('dest-not-empty.png') });
      await page.getByRole('button', { name: 'Start' }).click();
      await page.locator('.field-error').filter({ hasText: 'is not empty' }).first().waitFor();
      assert.equal(await page.locator('li.job').count(), 0, 'no job was created');
      await page.getByRole('button', { name: 'Close', exact: true }).click();
      await waitFor('focus back on Add snapshot after Close', async () => (await activeElement(page)).startsWith('button:Add snapshot'));

      const dest = join(work, 'extracted');
      // The checksum pasted as sha256sum prints it.
      await addJob(page, { url, dest, sha256: `${sha}  node-snapshot.tar.gz` });

      // Failed on the 404, with its state kept: Resume (named after the job), not only Remove.
      await pill(page, name, 'Failed').waitFor({ timeout: 30_000 });
      const resume = page.getByRole('button', { name: `Resume ${name}` });
      await resume.waitFor();
      await page.getByRole('button', { name: `Remove ${name}` }).waitFor();
      assert.match((await row(page, name).textContent()) ?? '', /HTTP 404/);
      await row(page, name).getByRole('button', { name: 'Copy details' }).click();
      await row(page, name)
        .getByRole('status')
        .filter({ hasText: /Copied|Could not copy/ })
        .waitFor();
      await page.screenshot({ path: screenshotPath('failed-resumable.png') });

      // The job's log has the failed attempt with its cause, and copies in one piece.
      const log = page.getByRole('region', { name: 'Job log' });
      await log.getByText('Log', { exact: true }).click();
      await log
        .getByLabel('Log lines')
        .filter({ hasText: /chunk 2 attempt 1 failed .*HTTP 404: E_HTTP_STATUS/ })
        .waitFor();
      await log.getByRole('button', { name: 'Copy log' }).click();
      await log
        .getByRole('status')
        .filter({ hasText: /Copied|Could not copy/ })
        .waitFor();
      await page.screenshot({ path: screenshotPath('job-log.png'), fullPage: true });
      await log.getByText('Log', { exact: true }).click();

      // The failed job's inspector shows no attempt "running"; Escape closes it and focus returns to the map.
      const canvas = page.getByRole('region', { name: 'Chunk map' }).locator('canvas');
      await canvas.focus();
      await page.keyboard.press('Home');
      await page.keyboard.press('Enter');
      const inspector = page.getByRole('region', { name: 'Chunk inspector' });
      await inspector.waitFor();
      assert.equal(await inspector.getByRole('cell', { name: 'running' }).count(), 0, 'no attempt is running in a failed job');
      await page.keyboard.press('Escape');
      await inspector.waitFor({ state: 'detached' });
      await waitFor('focus back on the chunk map', async () => (await activeElement(page)).startsWith('canvas'));

      // Resume once the link is valid again: done, the tree is the archive's, and it is announced.
      refused = false;
      await resume.click();
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      await page
        .getByRole('log', { name: 'Job announcements' })
        .filter({ hasText: `${name} finished.` })
        .waitFor();
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());

      // After a reload the finished job still shows its summary: duration, rate, entries, checksum.
      await page.reload();
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      const summary = page.getByRole('region', { name: 'Summary' });
      await summary.waitFor();
      const text = (await summary.textContent()) ?? '';
      assert.ok(text.includes(sha), 'the checksum');
      assert.match(text, /Duration \(last run\)\d/, 'the resumed run is said to be the last one');
      assert.match(text, /Average rate \(last run\)[\d.]+ (B|KiB|MiB)\/s/);
      assert.match(text, /Since added\d/);
      assert.match(text, /Entries\d+/);
      assert.match(text, /Skipped0/);
      await page.screenshot({ path: screenshotPath('summary-after-reload.png') });

      // Escape closes the add form and focus returns to the button that opened it.
      await page.getByRole('button', { name: 'Add snapshot' }).click();
      await page.getByLabel('Snapshot URL').waitFor();
      await page.keyboard.press('Escape');
      await page.getByRole('region', { name: 'Add a snapshot' }).waitFor({ state: 'detached' });
      await waitFor('focus on Add snapshot', async () => (await activeElement(page)).startsWith('button:Add snapshot'));

      // Settings refuses "abc" as a rate limit next to the field, and does not say "Saved.".
      await page.getByRole('button', { name: 'Settings', exact: true }).click();
      const settings = page.getByRole('region', { name: 'Settings' });
      await settings.getByLabel(/^Rate limit/).fill('abc');
      await settings.getByRole('button', { name: 'Save settings' }).click();
      await settings.getByText(/Enter a positive number, or leave it empty for no limit/).waitFor();
      assert.equal(await settings.getByText('Saved.').count(), 0);
      await page.screenshot({ path: screenshotPath('settings-invalid.png') });
      await settings.getByLabel(/^Rate limit/).press('Escape');
      await settings.waitFor({ state: 'detached' });

      // A second, slow job; after a reload it (the one that runs) is selected, not the older finished one.
      const dest2 = join(work, 'extracted-2');
      await addJob(page, { url: otherUrl, dest: dest2, rateMiB: '0.25' });
      const other = 'other-snapshot.tar.gz';
      await pill(page, other, 'Downloading').waitFor();
      await page.getByRole('button', { name, exact: true }).click();
      await page.reload();
      await page.getByRole('heading', { level: 2, name: other }).waitFor();

      // Cancel asks first, and offers to keep or delete the files.
      await waitFor('some files extracted', () => readdirSync(dest2).length > 0, 30_000);
      await page.getByRole('button', { name: `Cancel ${other}` }).click();
      const confirm = page.getByRole('group', { name: `Cancel ${other}?` });
      await confirm.waitFor();
      await page.screenshot({ path: screenshotPath('cancel-confirm.png') });
      await confirm.getByRole('button', { name: 'Cancel and delete the extracted files' }).click();
      await pill(page, other, 'Cancelled').waitFor();
      await waitFor('the extracted files deleted', () => readdirSync(dest2).length === 0, 10_000);

      // Finished jobs do not pile up: one button takes them off the list, and their files stay.
      await page.getByRole('button', { name: 'Remove finished (2)' }).click();
      await page.getByText('No snapshots yet.').waitFor();
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort(), 'the files stay');
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('serve restarts under a running and a paused job: the same tab reconnects, the running job continues and the paused one stays; a second serve is refused; an outage reads "stalled"; a new token is said', {
  skip: browserSkipped(),
  timeout: 180_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-restart-'));
  const archive = join(work, 'snap.tar.gz');
  await makeSnapshot(archive, [2 * MiB, 2 * MiB]);
  const origin = await FaultServer.start({ maxResponseMs: 120_000 });
  const runUrl = await origin.serve('/run-snapshot.tar.gz', { file: archive });
  const pausedUrl = await origin.serve('/paused-snapshot.tar.gz', { file: archive });
  const stateDir = join(work, 'state');
  let serve: ServeProcess = await startServe(stateDir);
  const port = Number(new URL(serve.url).port);
  const browser = await openBrowser();
  const { page } = browser;
  const run = 'run-snapshot.tar.gz';
  const paused = 'paused-snapshot.tar.gz';
  try {
    await withFailureShot(
      page,
      () => serve.stderr(),
      async () => {
        await page.goto(serve.url);
        await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
        await addJob(page, { url: runUrl, dest: join(work, 'run'), rateMiB: '0.25' });
        await addJob(page, { url: pausedUrl, dest: join(work, 'paused'), rateMiB: '0.25' });
        await pill(page, run, 'Downloading').waitFor();
        await pill(page, paused, 'Downloading').waitFor();
        await page.getByRole('button', { name: `Pause ${paused}` }).click();
        await pill(page, paused, 'Paused — by you').waitFor();

        // The token lives in the state folder, readable by its owner only.
        const tokenFile = join(stateDir, 'serve-token');
        assert.equal(statSync(tokenFile).mode & 0o777, 0o600);
        assert.equal(readFileSync(tokenFile, 'utf8').trim(), new URL(serve.url).searchParams.get('token'));

        // A second serve on the same folder refuses, naming the first one's pid.
        const second = await serveRefusal(stateDir);
        assert.notEqual(second.code, 0);
        assert.match(second.stderr, new RegExp(`process ${serve.child.pid}\\b`));
        assert.equal(second.stdout, '', 'no URL printed');

        // serve stops: the tab says the figures are not live.
        await serve.stop();
        await page
          .getByRole('status')
          .filter({ hasText: /Connection to the engine lost at .*not live/ })
          .waitFor();
        await page.screenshot({ path: screenshotPath('disconnected.png') });

        // Back on the same port: same token, so the same tab reconnects; the running job runs again by itself.
        serve = await startServe(stateDir, 15_000, port);
        await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor({ timeout: 20_000 });
        await pill(page, run, 'Downloading').waitFor({ timeout: 20_000 });
        await pill(page, paused, 'Paused — by you').waitFor();
        assert.match(serve.stderr(), /run-snapshot\.tar\.gz → .*: (probing|downloading)/, 'serve prints the job’s transitions');

        // An outage: every new range hangs. Within seconds the ETA says "stalled", never a huge figure.
        origin.setPlan((r) => (r.method === 'GET' && r.range !== null ? { kind: 'stall' } : undefined));
        const eta = row(page, run).locator('dd.stalled');
        await eta.waitFor({ timeout: 40_000 });
        assert.equal(await eta.textContent(), 'stalled');
        await page.screenshot({ path: screenshotPath('eta-stalled.png') });
        origin.setPlan(() => undefined);

        // The token file is lost and serve makes a new token: the tab says so instead of "reconnecting" forever.
        await serve.stop();
        rmSync(tokenFile);
        serve = await startServe(stateDir, 15_000, port);
        await page.getByRole('alert').filter({ hasText: 'This page can no longer talk to Snapshot Manager' }).waitFor({ timeout: 20_000 });
        await page.getByRole('status').filter({ hasText: 'token is refused' }).waitFor();
        await page.screenshot({ path: screenshotPath('token-refused.png') });
        assert.deepEqual(browser.pageErrors, []);
      },
    );
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    rmSync(work, { recursive: true, force: true });
  }
});

test('a full destination pauses the job as disk-full, and it continues once space is freed (8 MiB tmpfs)', {
  skip: browserSkipped() || canMountTmpfs(),
  timeout: 150_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-diskfull-'));
  const small = join(work, 'small');
  mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
  const archive = join(work, 'node-snapshot.tar.gz');
  const expected = await makeSnapshot(archive, [2 * MiB, 2 * MiB, 2 * MiB]);
  // Another program's file takes half the disk: 6 MiB of snapshot cannot fit beside it.
  const filler = join(small, 'filler.bin');
  writeFileSync(filler, Buffer.alloc(4 * MiB, 1));
  const origin = await FaultServer.start();
  const url = await origin.serve('/snapshots/node-snapshot.tar.gz', { file: archive });
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'node-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      const dest = join(small, 'node');
      await addJob(page, { url, dest });
      await pill(page, name, 'Paused — the disk is full').waitFor({ timeout: 30_000 });
      assert.equal(await pill(page, name, 'Failed').count(), 0);
      await row(page, name).locator('.error-headline').filter({ hasText: 'The disk is full' }).waitFor();
      await page.screenshot({ path: screenshotPath('disk-full.png') });

      // Space is freed: the job continues by itself and finishes with the archive's tree.
      rmSync(filler);
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.deepEqual([...(await readTree(dest)).entries()].sort(), [...expected.entries()].sort());
      assert.match(serve.stderr(), /paused \(disk-full\): E_DISK_FULL/);
      assert.deepEqual(browser.pageErrors, []);
    });
  } finally {
    await browser.close();
    await serve.stop();
    await origin.close();
    execFileSync('umount', [small], { stdio: 'ignore' });
    rmSync(work, { recursive: true, force: true });
  }
});
