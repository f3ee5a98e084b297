// "Connecting to mirror.example:443: connection refused (attempt 3, next try in 8 s)": the one wording of a
// wait for an origin that does not answer, shared by the window and the CLI.

export interface ConnectingInfo {
  host: string;
  attempt: number;
  reason: string;
  nextAt: number;
}

export function connectingText(c: ConnectingInfo, now: number): string {
  const s = Math.ceil((c.nextAt - now) / 1000);
  const next = s > 0 ? `next try in ${s} s` : 'trying again now';
  return `Connecting to ${c.host || 'the server'}: ${c.reason} (attempt ${c.attempt}, ${next})`;
}
