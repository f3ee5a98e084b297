// A polite live region: a screen reader hears when a job finishes, fails or pauses by itself, without
// having to look at the list. Only transitions seen while connected are announced, not the list loaded.
import { useEffect, useRef, useState } from 'react';
import { useApp } from '../context';
import { errorHeadline, PAUSE_REASONS } from '../store/format';
import type { JobView } from '../store/model';

function sentence(job: JobView): string | null {
  switch (job.state) {
    case 'done':
      return `${job.name} finished.`;
    case 'failed':
      return `${job.name} failed: ${job.error ? errorHeadline(job.error) : 'unknown error'}.`;
    case 'paused':
      return job.reason && job.reason !== 'user' ? `${job.name} paused: ${PAUSE_REASONS[job.reason]}.` : null;
    case 'cancelled':
      return `${job.name} cancelled.`;
    default:
      return null;
  }
}

export function Announcer() {
  const { store } = useApp();
  const [text, setText] = useState('');
  const seen = useRef(new Map<string, string>());
  useEffect(() => {
    const look = (jobs: Record<string, JobView>, announce: boolean): void => {
      const lines: string[] = [];
      for (const job of Object.values(jobs)) {
        const key = `${job.state}:${job.reason ?? ''}`;
        const before = seen.current.get(job.info.id);
        seen.current.set(job.info.id, key);
        if (!announce || before === undefined || before === key) continue;
        const line = sentence(job);
        if (line) lines.push(line);
      }
      if (lines.length > 0) setText(lines.join(' '));
    };
    look(store.getState().jobs, false);
    return store.subscribe((state, prev) => {
      if (state.jobs === prev.jobs) return;
      // A job first met now (a reload, a reconnect) is recorded, not announced.
      look(state.jobs, state.connection === 'open' && prev.connection === 'open');
    });
  }, [store]);
  return (
    <div className="sr-only" role="log" aria-live="polite" aria-label="Job announcements">
      {text}
    </div>
  );
}
