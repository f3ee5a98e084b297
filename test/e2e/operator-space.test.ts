// Space short of what the job needs, said up front (Debian's Chromium against the real `snapshot-manager
// serve`, an 8 MiB tmpfs): the add form tells the free space there; once the engine knows the size it refuses
// to start before fetching a byte, and the window says it in figures (needed, free, what to free) instead of
// a bare "disk full"; freed, the job starts by itself and finishes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FaultServer } from '../../harness/fault-server';
import { makeSnapshot } from './helpers/archive';
import { browserSkipped, openBrowser } from './helpers/browser';
import { ensureRendererBuilt, screenshotPath } from './helpers/paths';
import { pill, withFailureShot } from './helpers/window';
import { startServe } from './helpers/serve-process';
import { canMountTmpfs } from './helpers/tmpfs';

const MiB = 1024 * 1024;
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

test('a download that cannot fit is said up front in figures, nothing is fetched, and it starts by itself once space is freed (8 MiB tmpfs)', {
  skip: browserSkipped() || canMountTmpfs(),
  timeout: 120_000,
}, async () => {
  ensureRendererBuilt();
  const work = mkdtempSync(join(tmpdir(), 'sm-e2e-space-'));
  const small = join(work, 'small');
  mkdirSync(small);
  execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=8m', 'tmpfs', small]);
  const archive = join(work, 'node-snapshot.tar.gz');
  await makeSnapshot(archive, [2 * MiB, 2 * MiB, 2 * MiB]);
  const size = statSync(archive).size;
  // Another program's file takes half the disk: the 6 MiB download cannot fit beside it.
  const filler = join(small, 'filler.bin');
  writeFileSync(filler, Buffer.alloc(4 * MiB, 1));
  const origin = await FaultServer.start();
  const path = '/snapshots/node-snapshot.tar.gz';
  const url = await origin.serve(path, { file: archive });
  const serve = await startServe(join(work, 'state'));
  const browser = await openBrowser();
  const { page } = browser;
  const name = 'node-snapshot.tar.gz';
  try {
    await withFailureShot(page, serve.stderr, async () => {
      await page.goto(serve.url);
      await page.getByRole('status').filter({ hasText: 'Connected' }).waitFor();
      await page.getByRole('button', { name: 'Add snapshot' }).click();
      const form = page.getByRole('region', { name: 'Add a snapshot' });
      await form.getByLabel('Snapshot URL').fill(url);
      await form.getByLabel('Download only (keep the archive, do not extract)').check();
      const output = join(small, 'node-snapshot.tar.gz');
      await form.getByLabel('Output file').fill(output);
      // Before the job exists the size is not known, but the free space is: said next to the field.
      await form.getByText(/^4\.0 MiB free on that disk\.$/).waitFor();
      await form.getByText('Advanced settings').click();
      await form.getByLabel('Chunk size (MiB)').fill('1');
      await form.getByLabel('Window (chunks on disk)').fill('3');
      await form.getByLabel('Parallel connections').fill('2');
      await form.getByRole('button', { name: 'Start' }).click();
      await form.waitFor({ state: 'detached' });

      await pill(page, name, 'Paused — the disk is full').waitFor({ timeout: 30_000 });
      const notice = page.getByRole('alert', { name: 'Not enough space' });
      await notice.getByText(`Not enough space on ${small}`).waitFor();
      const text = (await notice.textContent()) ?? '';
      assert.match(text, /needs about 6\.\d MiB; 4\.0 MiB is free\. Free 2\.\d MiB more/);
      await page.screenshot({ path: screenshotPath('space-short.png') });
      assert.equal(origin.bodyBytesServed(path) <= 64 * 1024, true, `refused before fetching: ${origin.bodyBytesServed(path)} body bytes served`);

      // Space is freed: the job starts by itself, the notice goes, and the file is the archive.
      rmSync(filler);
      await pill(page, name, /^Done$/).waitFor({ timeout: 60_000 });
      assert.equal(await notice.count(), 0);
      assert.equal(sha256(readFileSync(output)), sha256(readFileSync(archive)));
      assert.equal(statSync(output).size, size);
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
