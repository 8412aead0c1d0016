import crypto from 'node:crypto';

/**
 * A form token bound to one interaction (its uid) under a server key. The interaction cookie is
 * SameSite=Lax already; this is the second lock on the door, and it makes a form from one
 * interaction useless for another.
 */
export class CsrfTokens {
  constructor(private readonly key: string) {}

  for(uid: string): string {
    return crypto.createHmac('sha256', this.key).update(`csrf|${uid}`).digest('base64url');
  }

  verify(uid: string, presented: string | null | undefined): boolean {
    if (!presented) return false;
    const expected = Buffer.from(this.for(uid));
    const actual = Buffer.from(presented);
    return expected.length === actual.length && crypto.timingSafeEqual(expected, actual);
  }
}
