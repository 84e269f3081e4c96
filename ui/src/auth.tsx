// Login: the token is checked against the API, then kept in this browser tab's session (sessionStorage), never
// in a cookie or on disk. The role decides which write buttons are shown; the server refuses writes regardless.
import { createContext, type FormEvent, useContext, useState } from 'react';
import { ApiError, type Me, setToken, whoAmI } from './api.ts';

export interface Session {
  me: Me;
  canWrite: boolean;
  logout: () => void;
}

export const SessionContext = createContext<Session | null>(null);

export function useSession(): Session {
  const s = useContext(SessionContext);
  if (!s) throw new Error('useSession outside a session');
  return s;
}

export function LoginForm({ onLogin, notice }: { onLogin: (me: Me) => void; notice?: string | null }) {
  const [token, setValue] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setBusy(true);
    setError(null);
    try {
      const me = await whoAmI(token.trim());
      setToken(token.trim());
      onLogin(me);
    } catch (err) {
      setError(err instanceof ApiError && err.status === 401 ? 'That token was not accepted. Check it and try again.' : `Could not log in: ${(err as Error).message}`);
    } finally {
      setBusy(false);
    }
  };
  return (
    <main className="login">
      <form onSubmit={submit} aria-labelledby="login-title">
        <h1 id="login-title">
          <span className="logo" aria-hidden="true">≋</span> Floe
        </h1>
        {notice && <p className="notice">{notice}</p>}
        <label htmlFor="token">API token</label>
        <input id="token" name="token" type="password" autoComplete="current-password" autoFocus required value={token} onChange={(e) => setValue(e.target.value)} />
        <p className="hint">
          An admin or read token of this server (<code>api.adminTokens</code>, <code>api.readTokens</code>); <code>floe standalone</code> prints one when it starts.
        </p>
        {error && (
          <p role="alert" className="error">
            {error}
          </p>
        )}
        <button type="submit" className="primary" disabled={busy || !token.trim()}>
          {busy ? 'Checking…' : 'Log in'}
        </button>
      </form>
    </main>
  );
}
