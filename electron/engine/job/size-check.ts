// The check of a HEAD-reported size, once per job, for the first range whose Content-Range gave no total:
// the byte past the end is asked for (see size-confirm.ts). Unconfirmed is a warning; a failure fails the run.
import { confirmSizeWithRetries, sizeUnconfirmedMessage } from '../transfer/size-confirm';
import type { RunContext } from './run-context';

export function confirmProbedSize(ctx: RunContext, fail: (err: unknown) => void): Promise<void> {
  const p = ctx.probed;
  const check = confirmSizeWithRetries(ctx.dispatcher, p.finalUrl, p.size!, ctx.policy, ctx.cancelSignal, ctx.options.headers).then(
    (verdict) => {
      if (verdict === 'unconfirmed') ctx.emit({ type: 'warning', code: 'SIZE_UNCONFIRMED', message: sizeUnconfirmedMessage(p.size!) });
    },
    (err) => {
      fail(err);
      throw err;
    },
  );
  check.catch(() => undefined);
  return check;
}
