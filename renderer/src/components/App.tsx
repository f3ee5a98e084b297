// The window's frame: a top bar, the operator's notices, the job list and the selected job.
import { useState } from 'react';
import { useApp, useAppState } from '../context';
import { AddJobForm } from './AddJobForm';
import { ErrorDetails } from './ErrorDetails';
import { JobDetail } from './JobDetail';
import { JobList } from './JobList';
import { SettingsPanel } from './SettingsPanel';

export function App() {
  const [adding, setAdding] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  return (
    <div className="app">
      <header className="topbar">
        <h1>Snapshot Manager</h1>
        <Connection />
        <div className="spacer" />
        <button type="button" className="primary" aria-expanded={adding} onClick={() => setAdding(!adding)}>
          Add snapshot
        </button>
        <button type="button" aria-expanded={settingsOpen} onClick={() => setSettingsOpen(!settingsOpen)}>
          Settings
        </button>
      </header>
      <Notice />
      {adding ? <AddJobForm onClose={() => setAdding(false)} /> : null}
      {settingsOpen ? <SettingsPanel onClose={() => setSettingsOpen(false)} /> : null}
      <div className="workspace">
        <nav className="jobs-pane" aria-label="Jobs">
          <JobList />
        </nav>
        <main className="detail-pane">
          <JobDetail />
        </main>
      </div>
    </div>
  );
}

function Connection() {
  const { transport } = useApp();
  const connection = useAppState((s) => s.connection);
  const words = { open: transport === 'electron' ? 'Ready' : 'Connected', connecting: 'Connecting…', closed: 'Disconnected — reconnecting' };
  return (
    <span className={`connection connection-${connection}`} role="status">
      {words[connection]}
    </span>
  );
}

function Notice() {
  const { store } = useApp();
  const notice = useAppState((s) => s.notice);
  if (!notice) return null;
  return (
    <div className="notice" role="alert">
      <strong>{notice.title}.</strong> <ErrorDetails error={notice.error} />
      <button type="button" className="link" onClick={() => store.getState().setNotice(null)}>
        Dismiss
      </button>
    </div>
  );
}
