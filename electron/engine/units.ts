// Human sizes and rates for the CLI and settings: "64M", "1.5G", "512k", "100000".
import { UsageError } from './errors';

const MULTIPLIERS: Record<string, number> = { '': 1, K: 1024, M: 1024 ** 2, G: 1024 ** 3, T: 1024 ** 4 };

/** Parses a byte count with an optional binary suffix (K, M, G, T; optional "iB"/"B"). */
export function parseSize(text: string, what: string): number {
  const m = /^\s*(\d+(?:\.\d+)?)\s*([kKmMgGtT]?)(?:i?[bB])?\s*$/.exec(text);
  if (!m) throw new UsageError(`${what}: "${text}" is not a size; use a number with an optional K, M, G or T suffix (e.g. 64M).`);
  const value = Number(m[1]) * MULTIPLIERS[m[2]!.toUpperCase()]!;
  if (!Number.isFinite(value) || value < 1) throw new UsageError(`${what}: "${text}" must be at least 1 byte.`);
  return Math.floor(value);
}

export function formatRate(bytesPerSecond: number): string {
  const units = ['B/s', 'KiB/s', 'MiB/s', 'GiB/s'];
  let v = bytesPerSecond;
  let i = 0;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${v.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms) || ms < 0) return '--:--';
  // Never "3.2e+31:42:08": past 99 days a figure says nothing more.
  if (ms > 99 * 24 * 3600_000) return '> 99d';
  const s = Math.round(ms / 1000);
  const h = Math.floor(s / 3600);
  const m = Math.floor((s % 3600) / 60);
  const sec = s % 60;
  const pad = (n: number) => String(n).padStart(2, '0');
  return h > 0 ? `${h}:${pad(m)}:${pad(sec)}` : `${pad(m)}:${pad(sec)}`;
}
