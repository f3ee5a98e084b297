// One syncfs(2) for the whole destination file system instead of an open + fsync + close per file.
//
// Why: a checkpoint must make every member completed since the last one durable. Extracting a snapshot's
// many small files, one fsync per file cost ~0.35 ms plus a reopen (~0.1–0.9 ms on ext4 in a VM), on the
// same thread pool as the extraction's own writes; measured on 2,615 files / 403 MiB: 0.9 s per-file vs
// 0.4 s for one `sync -f`, and ~2 s of a 6 s extraction under contention. Node exposes no syncfs, so the
// coreutils `sync -f DIR` (Linux, coreutils >= 8.24) makes the call. Where it is missing or fails, the
// caller falls back to per-file fsyncs (which also name the file when the error is real).
//
// `sync` runs from one long-lived `sh` that reads a directory per line: forking the engine's process for
// every checkpoint cost ~4 ms of its event loop each (page tables of a 150 MiB process), a shell's fork
// costs nothing here. The shell ends when this process does (its stdin closes).
import { spawn, type ChildProcessByStdio } from 'node:child_process';
import type { Readable, Writable } from 'node:stream';

const LOOP = 'while IFS= read -r d; do if sync -f -- "$d" 2>/dev/null; then echo ok; else echo fail; fi; done';

/** Whether `sync -f` has worked here: unknown until first tried, then fixed for the process. */
let available: boolean | null = process.platform === 'linux' ? null : false;
let helper: { child: ChildProcessByStdio<Writable, Readable, null>; waiting: Array<(ok: boolean) => void> } | null = null;

function startHelper(): NonNullable<typeof helper> {
  const child = spawn('sh', ['-c', LOOP], { stdio: ['pipe', 'pipe', 'ignore'], windowsHide: true });
  const h = { child, waiting: [] as Array<(ok: boolean) => void> };
  let buffered = '';
  child.stdout.setEncoding('utf8').on('data', (text: string) => {
    buffered += text;
    let nl: number;
    while ((nl = buffered.indexOf('\n')) >= 0) {
      const line = buffered.slice(0, nl);
      buffered = buffered.slice(nl + 1);
      h.waiting.shift()?.(line === 'ok');
      if (h.waiting.length === 0) hold(h, false);
    }
  });
  const gone = () => {
    if (helper === h) helper = null;
    for (const resolve of h.waiting.splice(0)) resolve(false);
  };
  child.on('error', (err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') available = false;
    gone();
  });
  child.on('exit', gone);
  child.stdin.on('error', gone);
  hold(h, false);
  return h;
}

/** Keeps the process alive only while an answer is awaited: an idle helper must never hold it open. */
function hold(h: NonNullable<typeof helper>, on: boolean): void {
  const verb = on ? 'ref' : 'unref';
  h.child[verb]();
  for (const s of [h.child.stdin, h.child.stdout] as unknown as Array<Record<string, (() => void) | undefined>>) s[verb]?.();
}

/**
 * Flushes every dirty page and inode of the file system holding `dir` and waits for it (syncfs(2)).
 * Resolves true when done that way, false when the caller must sync file by file instead.
 */
export function syncFileSystem(dir: string): Promise<boolean> {
  if (available === false || process.env.SNAPSHOT_MANAGER_NO_SYNCFS === '1' || dir.includes('\n')) return Promise.resolve(false);
  const h = (helper ??= startHelper());
  return new Promise<boolean>((resolve) => {
    if (h.waiting.length === 0) hold(h, true);
    h.waiting.push((ok) => {
      // Not there, or an old sync without -f: never try again. A failure after it worked (EIO from
      // writeback) is left to the per-file path, which reports it with the file's name.
      if (available === null) available = ok;
      resolve(ok);
    });
    h.child.stdin.write(`${dir}\n`);
  });
}
