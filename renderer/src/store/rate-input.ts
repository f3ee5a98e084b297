// The rate limit field, in MiB/s as the operator types it: empty or 0 is no limit; anything that is not a
// number, or is below the engine's 1 KiB/s floor, is refused with a sentence (never "Saved." for "abc").
const MiB = 1024 * 1024;

export type RateInput = { limitRate: number | null } | { error: string };

export function parseRateInput(text: string): RateInput {
  const t = text.trim().replace(',', '.');
  if (t === '' || /^0+(\.0*)?$/.test(t)) return { limitRate: null };
  if (!/^\d*\.?\d+$/.test(t)) return { error: `"${text.trim()}" is not a number of MiB/s (leave it empty for no limit).` };
  const bytes = Math.round(Number(t) * MiB);
  if (bytes < 1024) return { error: 'The lowest limit is 0.001 MiB/s (1 KiB/s); leave it empty for no limit.' };
  return { limitRate: bytes };
}

export function rateText(limitRate: number | null | undefined): string {
  return limitRate ? String(+(limitRate / MiB).toFixed(3)) : '';
}
