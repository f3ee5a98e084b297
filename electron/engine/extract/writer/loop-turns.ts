// Members are created with synchronous calls (see bytePathFsSync), so a run of tiny files could hold the
// event loop for as long as one tar-stage write takes to create them all. Every few milliseconds the loop
// gets a turn: sockets are read and timers run, so a stall watchdog never reads a busy writer as a silent
// origin, and serve's socket stays answered.

/** Longest stretch of synchronous member work before the loop gets a turn. */
export const LOOP_TURN_MS = 10;

export class LoopTurns {
  private since = performance.now();

  /** Resolves at once, or after one turn of the loop (setImmediate: after its I/O) once LOOP_TURN_MS have passed. */
  maybe(): Promise<void> | null {
    if (performance.now() - this.since < LOOP_TURN_MS) return null;
    return new Promise<void>((resolve) =>
      setImmediate(() => {
        this.since = performance.now();
        resolve();
      }),
    );
  }
}
