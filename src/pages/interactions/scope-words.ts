import type { Api } from '../../apis/api.js';

/** What each scope lets the app do, in words a person can judge. */
const OPENID_WORDS: Record<string, string> = {
  openid: 'Sign you in with your Tollgate account',
  profile: 'See your username',
  email: 'See your email address',
  offline_access: 'Stay signed in when you are not using it',
};

export interface ScopeLine {
  text: string;
  detail?: string;
}

export function describeOidcScope(scope: string): ScopeLine {
  return { text: OPENID_WORDS[scope] ?? scope };
}

export function describeApiScope(scope: string, api: Api | undefined): ScopeLine {
  const [, action] = scope.split(/[:.]/);
  const apiName = api?.name ?? api?.identifier ?? 'an API';
  const verb = action === 'read' ? 'Read' : action === 'write' ? 'Change' : undefined;
  return verb
    ? { text: `${verb} ${scope.split(/[:.]/)[0]} on ${apiName}`, detail: scope }
    : { text: `Use ${apiName}`, detail: scope };
}
