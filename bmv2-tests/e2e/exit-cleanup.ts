/**
 * Removes live topologies when the process ends without destroying them: on SIGINT, SIGTERM and
 * SIGHUP (then the signal is raised again, so the process still dies of it unless someone else
 * handles it) and on `exit`. Handlers are installed while at least one topology is live.
 */

export interface ExitCleanup {
  /** Synchronous: nothing asynchronous runs in an `exit` handler. */
  cleanupSync(): void;
}

const SIGNALS: readonly NodeJS.Signals[] = ['SIGINT', 'SIGTERM', 'SIGHUP'];
const live = new Set<ExitCleanup>();

function cleanupAll(): void {
  for (const item of [...live]) {
    live.delete(item);
    try {
      item.cleanupSync();
    } catch {
      // Keep going: the others still need removing.
    }
  }
}

function onSignal(signal: NodeJS.Signals): void {
  cleanupAll();
  uninstall();
  // With no other listener, re-raising gives the default action: the process ends by this signal.
  if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
}

function onExit(): void {
  cleanupAll();
}

let installed = false;

function install(): void {
  if (installed) return;
  installed = true;
  for (const s of SIGNALS) process.on(s, onSignal);
  process.on('exit', onExit);
}

function uninstall(): void {
  if (!installed) return;
  installed = false;
  for (const s of SIGNALS) process.off(s, onSignal);
  process.off('exit', onExit);
}

/** Keeps `item` to clean up at exit; the returned function forgets it (after a normal destroy). */
export function cleanupOnExit(item: ExitCleanup): () => void {
  live.add(item);
  install();
  return () => {
    live.delete(item);
    if (live.size === 0) uninstall();
  };
}

/** How many topologies would be cleaned at exit (for tests). */
export function pendingExitCleanups(): number {
  return live.size;
}
