// A promise with its resolve and reject at hand, for signals between a job's tasks (a chunk staged, a resume).
export interface Deferred {
  promise: Promise<void>;
  resolve: () => void;
  reject: (err: unknown) => void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: unknown) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  // A signal nobody awaits (the job failed before reaching that chunk) must not be an unhandled rejection.
  promise.catch(() => undefined);
  return { promise, resolve, reject };
}
