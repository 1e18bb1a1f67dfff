/** Who is signed in: the gateway's answer to POST /auth/login, kept for this tab only. */
export interface Session {
  accessToken: string;
  userId: string;
  role: 'customer' | 'admin' | 'ops';
  email: string;
}

const KEY = 'shop.session';
const listeners = new Set<() => void>();

export function currentSession(): Session | undefined {
  const raw = sessionStorage.getItem(KEY);
  return raw ? (JSON.parse(raw) as Session) : undefined;
}

export function setSession(session: Session | undefined): void {
  if (session) sessionStorage.setItem(KEY, JSON.stringify(session));
  else sessionStorage.removeItem(KEY);
  for (const listener of listeners) listener();
}

/** Called whenever someone signs in or out. */
export function onSessionChange(listener: () => void): void {
  listeners.add(listener);
}
