import { api } from './api.ts';
import { h } from './dom.ts';
import { currentSession, type Session, setSession } from './session.ts';

/** The demo users of README's table (local demo data only). */
const DEMO_USERS = [
  ['minji@example.com', 'minji-demo-pass'],
  ['junho@example.com', 'junho-demo-pass'],
  ['seoyeon@example.com', 'seoyeon-demo-pass'],
  ['admin@example.com', 'admin-demo-pass'],
] as const;

async function signIn(email: string, password: string): Promise<void> {
  const answer = await api<{ accessToken: string; userId: string; role: Session['role'] }>(
    'POST',
    '/auth/login',
    { body: { email, password } },
  );
  setSession({ accessToken: answer.accessToken, userId: answer.userId, role: answer.role, email });
}

/** The header: a sign-in form (with the demo users one click away), or who is signed in. */
export function renderSession(): void {
  const box = document.querySelector<HTMLElement>('#session')!;
  const session = currentSession();
  if (session) {
    box.replaceChildren(
      h('span', { 'data-testid': 'signed-in' }, `Signed in as ${session.email} (${session.role})`),
      h('button', { type: 'button', onclick: () => setSession(undefined) }, 'Sign out'),
    );
    return;
  }
  const email = h('input', { name: 'email', type: 'email', placeholder: 'email', autocomplete: 'username' });
  const password = h('input', {
    name: 'password',
    type: 'password',
    placeholder: 'password',
    autocomplete: 'current-password',
  });
  const error = h('span', { class: 'error', role: 'alert' });
  const submit = async (e: Event) => {
    e.preventDefault();
    error.textContent = '';
    try {
      await signIn(email.value, password.value);
    } catch (err) {
      error.textContent = (err as Error).message;
    }
  };
  box.replaceChildren(
    h(
      'form',
      { class: 'signin', onsubmit: submit },
      email,
      password,
      h('button', { type: 'submit' }, 'Sign in'),
      error,
    ),
    h(
      'div',
      { class: 'demo-users' },
      'Demo users: ',
      ...DEMO_USERS.map(([demoEmail, demoPassword]) =>
        h(
          'button',
          {
            type: 'button',
            class: 'link',
            onclick: () => {
              email.value = demoEmail;
              password.value = demoPassword;
            },
          },
          demoEmail.split('@')[0]!,
        ),
      ),
    ),
  );
}
