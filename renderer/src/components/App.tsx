// The window's frame: a top bar, the operator's notices, the job list and the selected job. Escape closes
// the add form and the settings, and focus goes back to the button that opened them.
import { useRef, useState, type KeyboardEvent, type RefObject } from 'react';
import { useApp, useAppState } from '../context';
import { AddJobForm } from './AddJobForm';
import { Announcer } from './Announcer';
import { ErrorDetails } from './ErrorDetails';
import { JobDetail } from './JobDetail';
import { JobList } from './JobList';
import { SettingsPanel } from './SettingsPanel';
import { TotalThroughput } from './TotalThroughput';

export function App() {
  const [adding, setAdding] = useState(false);
  const [settingsOpen, setSettingsOpen] = useState(false);
  const addButton = useRef<HTMLButtonElement>(null);
  const settingsButton = useRef<HTMLButtonElement>(null);
  const closer = (close: () => void, opener: RefObject<HTMLButtonElement | null>) => () => {
    close();
    // After React removed the panel, so focus does not fall to the page.
    requestAnimationFrame(() => opener.current?.focus());
  };
  const closeAdd = closer(() => setAdding(false), addButton);
  const closeSettings = closer(() => setSettingsOpen(false), settingsButton);
  const onEscape = (close: () => void) => (e: KeyboardEvent) => {
    if (e.key === 'Escape') {
      e.stopPropagation();
      close();
    }
  };
  return (
    <div className="app">
      <header className="topbar">
        <h1>Snapshot Manager</h1>
        <Connection />
        <div className="spacer" />
        <TotalThroughput />
        <button ref={addButton} type="button" className="primary" aria-expanded={adding} onClick={() => (adding ? closeAdd() : setAdding(true))}>
          Add snapshot
        </button>
        <button ref={settingsButton} type="button" aria-expanded={settingsOpen} onClick={() => (settingsOpen ? closeSettings() : setSettingsOpen(true))}>
          Settings
        </button>
      </header>
      <ConnectionBanner />
      <Notice />
      {adding ? (
        <div onKeyDown={onEscape(closeAdd)}>
          <AddJobForm onClose={closeAdd} />
        </div>
      ) : null}
      {settingsOpen ? (
        <div onKeyDown={onEscape(closeSettings)}>
          <SettingsPanel onClose={closeSettings} />
        </div>
      ) : null}
      <div className="workspace">
        <nav className="jobs-pane" aria-label="Jobs">
          <JobList />
        </nav>
        <main className="detail-pane">
          <JobDetail />
        </main>
      </div>
      <Announcer />
    </div>
  );
}

function Connection() {
  const { transport } = useApp();
  const connection = useAppState((s) => s.connection);
  const words = {
    open: transport === 'electron' ? 'Ready' : 'Connected',
    connecting: 'Connecting…',
    closed: 'Disconnected — reconnecting',
    unauthorized: 'Not signed in: this page’s token is refused',
  };
  return (
    <span className={`connection connection-${connection}`} role="status">
      {words[connection]}
    </span>
  );
}

/** Says that the figures are not live while the host is away, and what to do when it no longer accepts us. */
function ConnectionBanner() {
  const connection = useAppState((s) => s.connection);
  const lostAt = useAppState((s) => s.connectionLostAt);
  if (connection === 'open' || lostAt === null) return null;
  const since = new Date(lostAt).toLocaleTimeString();
  if (connection === 'unauthorized') {
    return (
      <div className="banner banner-error" role="alert">
        <strong>This page can no longer talk to Snapshot Manager:</strong> <code>serve</code> was restarted with a new token (its state folder lost the <code>serve-token</code>{' '}
        file, or another folder is used). Open the URL that <code>snapshot-manager serve</code> printed as its first line; the jobs below are as they were at {since}.
      </div>
    );
  }
  return (
    <div className="banner" role="status">
      Connection to the engine lost at {since}; reconnecting. The figures below are from then, not live.
    </div>
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
