// Electron reports connectivity only as a query (net.isOnline()); this turns it into transitions.
export function watchOnline(isOnline: () => boolean, onChange: (online: boolean) => void, intervalMs = 5000): () => void {
  let last = isOnline();
  const timer = setInterval(() => {
    const now = isOnline();
    if (now !== last) {
      last = now;
      onChange(now);
    }
  }, intervalMs);
  timer.unref?.();
  return () => clearInterval(timer);
}
