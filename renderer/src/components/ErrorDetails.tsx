// An error in an operator's words first; the code, the message and the whole cause chain one click away.
import { useId, useState } from 'react';
import type { SerializedError } from '../store/model';
import { errorHeadline } from '../store/format';

export function CauseChain({ error }: { error: SerializedError }) {
  return (
    <ol className="cause-chain" aria-label="Cause chain">
      <li>
        <code>{error.code}</code> {error.message}
      </li>
      {error.causes.map((cause, i) => (
        <li key={i}>
          {cause.code ? <code>{cause.code}</code> : null} {cause.message}
        </li>
      ))}
    </ol>
  );
}

export function ErrorDetails({ error, open: initiallyOpen = false }: { error: SerializedError; open?: boolean }) {
  const [open, setOpen] = useState(initiallyOpen);
  const id = useId();
  return (
    <div className="error-details">
      <span className="error-headline">{errorHeadline(error)}</span>{' '}
      <button type="button" className="link" aria-expanded={open} aria-controls={id} onClick={() => setOpen(!open)}>
        {open ? 'Hide details' : 'Details'}
      </button>
      {open ? (
        <div id={id}>
          <CauseChain error={error} />
          {error.retryable ? <p className="muted">Retrying can help.</p> : null}
        </div>
      ) : null}
    </div>
  );
}
