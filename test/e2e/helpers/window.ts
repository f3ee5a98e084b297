// What the operator tests do in the window again and again: wait for something, add a job through the form,
// find a job's row and state pill, and keep a screenshot and serve's output when a step fails.
import type { Page } from 'playwright-core';
import { screenshotPath } from './paths';

export async function waitFor<T>(what: string, probe: () => Promise<T | undefined | false> | T | undefined | false, timeoutMs = 20_000, everyMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

/** Fills the add form (1 MiB chunks, a window of 3, 2 connections) and starts the job. */
export async function addJob(page: Page, fields: { url: string; dest: string; sha256?: string; rateMiB?: string; mirrors?: string[] }): Promise<void> {
  await page.getByRole('button', { name: 'Add snapshot' }).click();
  const form = page.getByRole('region', { name: 'Add a snapshot' });
  await form.getByLabel('Snapshot URL').fill(fields.url);
  await form.getByLabel('Destination').fill(fields.dest);
  if (fields.sha256) await form.getByLabel('SHA-256 (optional)').fill(fields.sha256);
  if (fields.mirrors) await form.getByLabel(/^Mirrors/).fill(fields.mirrors.join('\n'));
  await form.getByText('Advanced settings').click();
  await form.getByLabel('Chunk size (MiB)').fill('1');
  await form.getByLabel('Window (chunks on disk)').fill('3');
  await form.getByLabel('Parallel connections').fill('2');
  await form.getByLabel(/^Rate limit/).fill(fields.rateMiB ?? '');
  await form.getByRole('button', { name: 'Start' }).click();
  await form.waitFor({ state: 'detached' });
}

export const row = (page: Page, name: string) => page.locator('li.job').filter({ has: page.getByRole('button', { name, exact: true }) });
export const pill = (page: Page, name: string, text: string | RegExp) => row(page, name).locator('.pill').filter({ hasText: text });

export async function withFailureShot<T>(page: Page, serve: () => string, body: () => Promise<T>): Promise<T> {
  try {
    return await body();
  } catch (err) {
    await page.screenshot({ path: screenshotPath('failure.png') }).catch(() => undefined);
    throw new Error(`${(err as Error).message}\n--- serve stderr ---\n${serve()}`, { cause: err });
  }
}
