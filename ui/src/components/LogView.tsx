// A try's log, read in pieces from an offset: while the try runs it keeps reading what was written since
// (follow mode scrolls to the end as lines arrive).
import { useEffect, useRef, useState } from 'react';
import { ApiError, getLog } from '../api.ts';

export function LogView({ path, live }: { path: string; live: boolean }) {
  const [text, setText] = useState('');
  const [source, setSource] = useState<string | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [follow, setFollow] = useState(true);
  const pre = useRef<HTMLPreElement>(null);
  const liveRef = useRef(live);
  liveRef.current = live;

  useEffect(() => {
    let stopped = false;
    let offset = 0;
    let timer: ReturnType<typeof setTimeout> | undefined;
    const decoder = new TextDecoder();
    setText('');
    setError(null);
    const tick = async () => {
      const wasLive = liveRef.current;
      try {
        const r = await getLog(path, offset);
        if (stopped) return;
        offset = r.next;
        setSource(r.source);
        setError(null);
        if (r.bytes.length) {
          const piece = decoder.decode(r.bytes, { stream: true });
          setText((t) => t + piece);
        }
      } catch (e) {
        if (stopped) return;
        // No log yet is normal for a try that is only queued.
        setError(e instanceof ApiError && e.status === 404 ? (wasLive ? 'No log yet: the try has not written any.' : e.message) : (e as Error).message);
      }
      // One more read after the try ended picks up its last lines.
      if (!stopped && (wasLive || liveRef.current)) timer = setTimeout(tick, 1500);
    };
    void tick();
    return () => {
      stopped = true;
      clearTimeout(timer);
    };
    // `live` turning on again (a cleared try running anew) restarts the reading from the start.
  }, [path, live]);

  useEffect(() => {
    if (follow && pre.current) pre.current.scrollTop = pre.current.scrollHeight;
  }, [text, follow]);

  return (
    <div className="log">
      <div className="log-bar">
        <span className="muted small">{source ? (source === 'file' ? 'from the task log file' : `from ${source} (Kubernetes API)`) : ''}</span>
        {live && <span className="live" aria-live="polite">● live</span>}
        <label>
          <input type="checkbox" checked={follow} onChange={(e) => setFollow(e.target.checked)} /> Follow
        </label>
      </div>
      {error && !text && <p className="muted">{error}</p>}
      <pre ref={pre} tabIndex={0} aria-label="Task log" data-testid="log">
        {text}
      </pre>
    </div>
  );
}
