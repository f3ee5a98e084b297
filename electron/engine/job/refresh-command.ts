// --refresh-url-command: a command the operator gives that prints a fresh link (e.g. `aws s3 presign ...`),
// run when the link expires. Through the shell, bounded in time; the first non-empty line of its stdout is
// the link. Its stderr goes to the job's warnings with any URL in it redacted; stdout is never shown.
import { spawn } from 'node:child_process';
import { redactUrl } from '../transfer/redact';

export const REFRESH_TIMEOUT_MS = 60_000;
const STDOUT_MAX = 64 * 1024;
const STDERR_LINES_MAX = 20;

export type RefreshOutcome = { ok: true; url: string } | { ok: false; message: string; exitStatus: number | string | null };

/** Any URL in a line of the command's stderr, shown without its query (a signature) or userinfo. */
export function redactUrlsIn(line: string): string {
  return line.replace(/\bhttps?:\/\/[^\s"'<>]+/gi, (u) => redactUrl(u));
}

export function runRefreshCommand(command: string, p: { timeoutMs?: number; signal?: AbortSignal; onStderr?: (line: string) => void } = {}): Promise<RefreshOutcome> {
  const timeoutMs = p.timeoutMs ?? REFRESH_TIMEOUT_MS;
  return new Promise((resolve) => {
    const unix = process.platform !== 'win32';
    // Its own process group, so that a timeout ends what the shell started too.
    const child = spawn(command, { shell: true, stdio: ['ignore', 'pipe', 'pipe'], detached: unix, windowsHide: true });
    let stdout = '';
    let stderr = '';
    let stderrLines = 0;
    let timedOut = false;
    const kill = () => {
      try {
        if (unix && child.pid) process.kill(-child.pid, 'SIGKILL');
        else child.kill('SIGKILL');
      } catch {
        // already gone
      }
    };
    const timer = setTimeout(() => {
      timedOut = true;
      kill();
    }, timeoutMs);
    const onAbort = () => kill();
    p.signal?.addEventListener('abort', onAbort, { once: true });
    child.stdout.on('data', (d: Buffer) => {
      if (stdout.length < STDOUT_MAX) stdout += d.toString('utf8');
    });
    const flushStderr = (final: boolean) => {
      const lines = stderr.split('\n');
      stderr = final ? '' : lines.pop()!;
      for (const line of lines) {
        if (line.trim() && stderrLines++ < STDERR_LINES_MAX) p.onStderr?.(redactUrlsIn(line.trimEnd()).slice(0, 500));
      }
    };
    child.stderr.on('data', (d: Buffer) => {
      stderr += d.toString('utf8');
      flushStderr(false);
    });
    const settle = (outcome: RefreshOutcome) => {
      clearTimeout(timer);
      p.signal?.removeEventListener('abort', onAbort);
      resolve(outcome);
    };
    child.on('error', (err) => settle({ ok: false, message: `the refresh command could not be started (${err.message})`, exitStatus: null }));
    child.on('close', (code, signal) => {
      flushStderr(true);
      if (timedOut) return settle({ ok: false, message: `the refresh command did not finish within ${Math.round(timeoutMs / 1000)} s and was stopped`, exitStatus: 'timeout' });
      if (code !== 0) return settle({ ok: false, message: `the refresh command failed (exit status ${code ?? `signal ${signal}`})`, exitStatus: code ?? signal });
      const url = stdout
        .split(/\r?\n/)
        .map((l) => l.trim())
        .find((l) => l !== '');
      if (!url) return settle({ ok: false, message: 'the refresh command printed no link (its first non-empty line of output is taken as the new URL)', exitStatus: 0 });
      if (!/^https?:\/\//i.test(url)) return settle({ ok: false, message: 'the first line the refresh command printed is not an http(s) URL', exitStatus: 0 });
      settle({ ok: true, url });
    });
  });
}
