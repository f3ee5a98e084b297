// Ctrl-C and SIGTERM while a command runs. The first stops it (its cleanup runs; `get` then exits 3 with its
// state kept). One keypress often arrives twice: the terminal signals the whole process group, and a parent
// such as npm (`npx`) forwards the signal to its child too; a copy within DUPLICATE_MS is that same keypress,
// not a second Ctrl-C. A later one means "now": `onForce` (exit at once). The watch stays while the process
// exits after an interrupt, so a late copy does not kill it: it ends with its own exit code, not by the
// signal (which a shell reports as 130 or 143).
const SIGNALS = ['SIGINT', 'SIGTERM'] as const;

/** Two deliveries of one signal closer than this are one keypress. */
export const DUPLICATE_MS = 500;

export interface InterruptWatch {
  readonly interrupted: boolean;
  /** The command has stopped: stop listening, unless a signal came (then its copies must still not kill the exit). */
  dispose(): void;
}

export function watchInterrupts(onStop: () => void, onForce: () => void, now: () => number = () => performance.now()): InterruptWatch {
  let first: number | null = null;
  const handler = (): void => {
    const at = now();
    if (first === null) {
      first = at;
      onStop();
    } else if (at - first >= DUPLICATE_MS) onForce();
  };
  for (const s of SIGNALS) process.on(s, handler);
  return {
    get interrupted() {
      return first !== null;
    },
    dispose() {
      if (first === null) for (const s of SIGNALS) process.off(s, handler);
    },
  };
}
