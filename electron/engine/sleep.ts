// Delays that can be cut short. Each removes its abort listener however it ends: a job retries thousands of
// times on one cancel signal, and a listener left behind per delay is a leak (and Node's
// MaxListenersExceededWarning after eleven).

/** setTimeout as a promise that rejects with the signal's reason when aborted. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve, reject) => {
    if (signal?.aborted) return reject(signal.reason);
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(signal!.reason);
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}

/**
 * A delay that ends early, without an error, when `wake()` is called or the signal aborts (the caller then
 * looks at why). `wake` is safe to call at any time, also after the delay ended.
 */
export function wakeableDelay(ms: number, signal: AbortSignal): { ended: Promise<void>; wake: () => void } {
  let wake!: () => void;
  const ended = new Promise<void>((resolve) => {
    let done = false;
    const timer = setTimeout(() => end(), ms);
    function end(): void {
      if (done) return;
      done = true;
      clearTimeout(timer);
      signal.removeEventListener('abort', end);
      resolve();
    }
    wake = end;
    if (signal.aborted) end();
    else signal.addEventListener('abort', end, { once: true });
  });
  return { ended, wake };
}
