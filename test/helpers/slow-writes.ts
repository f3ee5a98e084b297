// Imported before the engine: fs.writev can be held back for a while before it runs, so a test sees what
// happens while writes are still in flight (the engine binds fs.writev when it loads).
import fs from 'node:fs';

export const slowWrites = { delayMs: 0 };

const realWritev = fs.writev;
(fs as { writev: unknown }).writev = (...args: unknown[]) => {
  const write = () => (realWritev as (...a: unknown[]) => void)(...args);
  if (slowWrites.delayMs > 0) setTimeout(write, slowWrites.delayMs);
  else write();
};
