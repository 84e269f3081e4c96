// Task-instance and run states: one colour, one symbol and one word each, so state is never told by colour alone.
export interface StateStyle {
  label: string;
  color: string;
  /** Text colour on `color`, for contrast. */
  ink: string;
  symbol: string;
}

export const STATES: Record<string, StateStyle> = {
  success: { label: 'success', color: '#1b7f3b', ink: '#fff', symbol: '✓' },
  failed: { label: 'failed', color: '#c62828', ink: '#fff', symbol: '✗' },
  running: { label: 'running', color: '#0b7fab', ink: '#fff', symbol: '▶' },
  queued: { label: 'queued', color: '#6d6d6d', ink: '#fff', symbol: '…' },
  scheduled: { label: 'scheduled', color: '#b58a3c', ink: '#fff', symbol: '◷' },
  up_for_retry: { label: 'up for retry', color: '#c99a00', ink: '#1a1a1a', symbol: '↻' },
  up_for_reschedule: { label: 'up for reschedule', color: '#5f9ea0', ink: '#fff', symbol: '⏲' },
  upstream_failed: { label: 'upstream failed', color: '#e07b00', ink: '#1a1a1a', symbol: '⚠' },
  skipped: { label: 'skipped', color: '#d36fa8', ink: '#1a1a1a', symbol: '»' },
  removed: { label: 'removed', color: '#b8b8b8', ink: '#1a1a1a', symbol: '−' },
  none: { label: 'no status', color: '#ffffff', ink: '#444', symbol: '' },
  launch_failed: { label: 'launch failed', color: '#8e24aa', ink: '#fff', symbol: '⚡' },
};

export const styleOf = (state: string | null | undefined): StateStyle => STATES[state ?? 'none'] ?? { label: state ?? 'no status', color: '#eee', ink: '#222', symbol: '?' };

export const UNFINISHED = new Set(['none', 'scheduled', 'queued', 'running', 'up_for_retry', 'up_for_reschedule']);
export const isUnfinishedRun = (s: string) => s === 'queued' || s === 'running';

export function StateBadge({ state }: { state: string | null | undefined }) {
  const s = styleOf(state);
  return (
    <span className="badge" style={{ background: s.color, color: s.ink }} data-state={state ?? 'none'}>
      {s.symbol && <span aria-hidden="true">{s.symbol} </span>}
      {s.label}
    </span>
  );
}

const LEGEND = ['success', 'failed', 'running', 'queued', 'scheduled', 'up_for_retry', 'up_for_reschedule', 'upstream_failed', 'skipped', 'removed', 'none'];

export function Legend() {
  return (
    <ul className="legend" aria-label="State colours">
      {LEGEND.map((k) => (
        <li key={k}>
          <StateBadge state={k} />
        </li>
      ))}
    </ul>
  );
}
