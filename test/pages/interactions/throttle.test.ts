import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import {
  AttemptThrottle,
  USERNAME_MAX_DELAY_MS,
  WINDOW_SECONDS,
  keyFor,
  passwordSubjects,
} from '../../../src/pages/interactions/attempt-throttle.js';
import { passwordHashing } from '../../../src/users/password.js';
import { unique } from '../../helpers/database.js';
import { startServer, type TestServer } from '../../helpers/server.js';
import { REDIRECT_URI, discover, startAuthorization } from '../../helpers/web-app.js';

/**
 * The sign-in and device-code throttles (contract, "Trust"): a username's wrong passwords from
 * one client address at most 10 per 15 minutes, counted before the password is checked; beyond,
 * 429 with Retry-After, the password not checked. Failures of one username from many addresses
 * slow it down but never refuse its right password from an address that has not failed. Device
 * code entry likewise per address. The client address is the one TRUST_PROXY says.
 */

// Every checked password is a 128 MiB scrypt, at most 2 at a time: on a busy machine (the whole
// suite runs two files at once) a test of a dozen sign-ins takes far longer than the default 30 s.
vi.setConfig({ testTimeout: 180_000 });

const PASSWORD = 'copper-meadow-41-lantern';
const LIMIT = 10;

type Agent = ReturnType<TestServer['public']>;
interface LoginForm {
  agent: Agent;
  action: string;
  csrf: string;
}

function randomIp(): string {
  const octet = () => crypto.randomInt(1, 255);
  return `10.${octet()}.${octet()}.${octet()}`;
}

/** A fresh documentation-range-like address no other test uses. */
function addressOf(label: string): string {
  const digest = crypto
    .createHash('sha256')
    .update(label + Math.random())
    .digest();
  return `198.${18 + (digest[0]! % 2)}.${digest[1]}.${(digest[2]! % 250) + 1}`;
}

const servers = {} as { proxied: TestServer; twoHops: TestServer; direct: TestServer };
const clients = new Map<TestServer, { id: string; secret: string }>();

async function createUser(server: TestServer, prefix: string): Promise<string> {
  const username = unique(prefix);
  const response = await server.admin('post', '/users', { username, password: PASSWORD });
  expect(response.status, JSON.stringify(response.body)).toBe(201);
  return username;
}

/** Starts an authorization over plain HTTP and opens its login form. */
async function openLoginForm(server: TestServer): Promise<LoginForm> {
  const client = clients.get(server)!;
  const config = await discover(server, client.id, client.secret);
  const start = await startAuthorization(config, { scope: 'openid' });
  const agent = server.public();
  const authorization = await agent.get(`${start.url.pathname}${start.url.search}`);
  expect(authorization.status).toBeGreaterThanOrEqual(300);
  const login = await agent.get(new URL(authorization.headers.location!, server.issuer).pathname);
  expect(login.status).toBe(200);
  const action = /<form method="post" action="([^"]+)"/.exec(login.text)?.[1];
  const csrf = /name="csrf" value="([^"]+)"/.exec(login.text)?.[1];
  expect(action && csrf, login.text).toBeTruthy();
  return { agent, action: action!, csrf: csrf! };
}

function attempt(form: LoginForm, username: string, password: string, forwardedFor?: string) {
  const request = form.agent.post(form.action).type('form');
  if (forwardedFor !== undefined) request.set('X-Forwarded-For', forwardedFor);
  return request.send({ csrf: form.csrf, username, password });
}

function expectRefused(response: { status: number; headers: Record<string, string>; text: string }) {
  expect(response.status).toBe(429);
  const retryAfter = Number(response.headers['retry-after']);
  expect(retryAfter).toBeGreaterThanOrEqual(1);
  expect(retryAfter).toBeLessThanOrEqual(WINDOW_SECONDS);
  expect(response.text).toContain('Too many attempts');
  expect(response.text.toLowerCase()).toContain('try again later');
}

beforeAll(async () => {
  [servers.proxied, servers.twoHops, servers.direct] = await Promise.all([
    startServer({ env: { TRUST_PROXY: 'true' } }),
    startServer({ env: { TRUST_PROXY: '2' } }),
    startServer(),
  ]);
  for (const server of Object.values(servers)) {
    const response = await server.admin('post', '/clients', {
      name: unique('throttle-web-'),
      grant_types: ['authorization_code'],
      redirect_uris: [REDIRECT_URI],
      scopes: ['openid'],
    });
    expect(response.status, JSON.stringify(response.body)).toBe(201);
    clients.set(server, { id: response.body.client_id, secret: response.body.client_secret });
  }
});

afterAll(async () => {
  await Promise.all(Object.values(servers).map((server) => server?.close()));
});

describe('wrong passwords for one username from one address', () => {
  it('at most 10 are checked; then 429 with Retry-After, even for the right password, however X-Forwarded-For rotates (TRUST_PROXY=1)', async () => {
    const server = servers.proxied;
    const username = await createUser(server, 'rotating-');
    const neighbour = await createUser(server, 'neighbour-');
    const form = await openLoginForm(server);
    const attacker = addressOf('attacker');
    // The proxy appends the address it saw; the client writes whatever it likes to the left.
    const fromAttacker = () => `${randomIp()}, ${attacker}`;
    const failed = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => attempt(form, username, `wrong-guess-${i}-xyz`, fromAttacker())),
    );
    expect(failed.map((r) => r.status)).toEqual(Array(LIMIT).fill(401));
    expectRefused(await attempt(form, username, 'wrong-guess-11-xyz', fromAttacker()));
    // Not checked: the right password is refused too.
    expectRefused(await attempt(form, username, PASSWORD, fromAttacker()));
    // Another username from the same address is not held back by these failures.
    expect((await attempt(form, neighbour, 'wrong-guess-xyz', fromAttacker())).status).toBe(401);

    // Stored under hashes only: no username or address in the table.
    const stored = JSON.stringify(await server.tollgate.database.knex('attempt_reservations').select()).toLowerCase();
    expect(stored).not.toContain(username.toLowerCase());
    expect(stored).not.toContain(attacker);
  });

  it("a victim's address written left in the header does not throttle the victim", async () => {
    const server = servers.proxied;
    const username = await createUser(server, 'victim-');
    const form = await openLoginForm(server);
    const victim = addressOf('victim');
    const attacker = addressOf('attacker');
    const results = await Promise.all(
      Array.from({ length: LIMIT + 1 }, (_, i) =>
        attempt(form, username, `wrong-guess-${i}-xyz`, `${victim}, ${attacker}`),
      ),
    );
    expect(results.filter((r) => r.status === 429)).toHaveLength(1);
    // The victim, through the same proxy, signs in.
    const signedIn = await attempt(form, username, PASSWORD, victim);
    expect(signedIn.status, signedIn.text).toBe(303);
  });

  it('with TRUST_PROXY=2 the client is the second address from the right, whichever proxy it came through', async () => {
    const server = servers.twoHops;
    const username = await createUser(server, 'two-hops-');
    const form = await openLoginForm(server);
    const client = addressOf('client');
    const proxies = ['10.0.0.2', '10.0.0.3'];
    const failed = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) =>
        attempt(form, username, `wrong-guess-${i}-xyz`, `${randomIp()}, ${client}, ${proxies[i % 2]}`),
      ),
    );
    expect(failed.map((r) => r.status)).toEqual(Array(LIMIT).fill(401));
    expectRefused(await attempt(form, username, PASSWORD, `${randomIp()}, ${client}, ${proxies[0]}`));
    // Another client behind the same proxies is not affected.
    expect((await attempt(form, username, PASSWORD, `${client}, ${addressOf('other')}, ${proxies[1]}`)).status).toBe(
      303,
    );
  });

  it('without TRUST_PROXY the header is ignored: every attempt counts against the socket address', async () => {
    const server = servers.direct;
    const username = await createUser(server, 'direct-');
    const form = await openLoginForm(server);
    const failed = await Promise.all(
      Array.from({ length: LIMIT }, (_, i) => attempt(form, username, `wrong-guess-${i}-xyz`, randomIp())),
    );
    expect(failed.map((r) => r.status)).toEqual(Array(LIMIT).fill(401));
    expectRefused(await attempt(form, username, 'wrong-guess-11-xyz', randomIp()));
  });

  it('20 concurrent wrong passwords: exactly 10 are checked, 10 refused (the attempt is reserved before the check)', async () => {
    const server = servers.proxied;
    const username = await createUser(server, 'concurrent-');
    const form = await openLoginForm(server);
    const attacker = addressOf('burst');
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) => attempt(form, username, `wrong-guess-${i}-xyz`, attacker)),
    );
    expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(401), ...Array(10).fill(429)]);
  });

  it('a right password clears the failures of that username from that address', async () => {
    const server = servers.proxied;
    const throttle = new AttemptThrottle(server.tollgate.database.knex);
    const username = await createUser(server, 'clears-');
    const address = addressOf('clears');
    // Nine failures already counted (as nine wrong passwords would have left them).
    const fail = async (times: number) => {
      for (let i = 0; i < times; i += 1) await throttle.reserve(passwordSubjects(username, address));
    };
    await fail(LIMIT - 1);
    expect((await attempt(await openLoginForm(server), username, PASSWORD, address)).status).toBe(303);
    // Without the clearing, 9 + 9 more would leave this attempt refused.
    await fail(LIMIT - 1);
    expect((await attempt(await openLoginForm(server), username, 'wrong-again-xyz', address)).status).toBe(401);
    expectRefused(await attempt(await openLoginForm(server), username, PASSWORD, address));
  });
});

describe('one username attacked from many addresses', () => {
  it('is slowed down, never locked: the right password from a fresh address signs in after a capped delay', async () => {
    const server = servers.proxied;
    const username = await createUser(server, 'distributed-');
    const form = await openLoginForm(server);
    // Eleven failures from eleven addresses already counted, and three more over HTTP now.
    const throttle = new AttemptThrottle(server.tollgate.database.knex);
    for (let i = 0; i < 11; i += 1) await throttle.reserve(passwordSubjects(username, addressOf(`bot-${i}`)));
    const attackers = Array.from({ length: 3 }, (_, i) => addressOf(`bot-http-${i}`));
    const results = await Promise.all(
      attackers.map((address, i) => attempt(form, username, `wrong-guess-${i}-xyz`, address)),
    );
    expect(results.map((r) => r.status)).toEqual([401, 401, 401]);

    const started = Date.now();
    const signedIn = await attempt(form, username, PASSWORD, addressOf('owner'));
    const elapsed = Date.now() - started;
    expect(signedIn.status, signedIn.text).toBe(303);
    expect(elapsed).toBeGreaterThanOrEqual(USERNAME_MAX_DELAY_MS - 50);
    // An address that failed once is slowed as well, not refused.
    expect((await attempt(await openLoginForm(server), username, 'wrong-once-more-xyz', attackers[0])).status).toBe(
      401,
    );
  });
});

describe('password hashing is bounded', () => {
  it('a burst of sign-ins runs at most 2 hashes at once; the excess beyond the waiting line gets 503 with Retry-After', async () => {
    const server = servers.proxied;
    const form = await openLoginForm(server);
    let peak = 0;
    const sampler = setInterval(() => {
      peak = Math.max(peak, passwordHashing.load.running);
    }, 5);
    try {
      // Unknown usernames from different addresses: nothing throttles them, each costs a hash.
      const results = await Promise.all(
        Array.from({ length: 30 }, (_, i) =>
          attempt(form, unique(`nobody-${i}-`), 'wrong-guess-xyz', addressOf(`crowd-${i}`)),
        ),
      );
      const statuses = results.map((r) => r.status);
      expect(
        statuses.every((status) => status === 401 || status === 503),
        statuses.join(),
      ).toBe(true);
      const busy = results.filter((r) => r.status === 503);
      expect(busy.length).toBeGreaterThanOrEqual(1);
      expect(statuses.filter((status) => status === 401).length).toBeGreaterThanOrEqual(passwordHashing.slots);
      for (const response of busy) {
        expect(response.headers['retry-after']).toBe('1');
        expect(response.text).toContain('try again in a moment');
      }
    } finally {
      clearInterval(sampler);
    }
    expect(peak).toBeGreaterThanOrEqual(1);
    expect(peak).toBeLessThanOrEqual(2);
  });
});

describe('the per-address limit across usernames', () => {
  it('refuses the 101st attempt from one address within the window, and gives back what it reserved for it', async () => {
    const throttle = new AttemptThrottle(servers.direct.tollgate.database.knex);
    const address = addressOf('spray');
    for (let i = 0; i < 100; i += 1) {
      const result = await throttle.reserve([
        { kind: 'user', value: `spray-${i}|${address}` },
        { kind: 'ip', value: address },
      ]);
      expect(result.allowed, `attempt ${i + 1}`).toBe(true);
    }
    const refused = await throttle.reserve([
      { kind: 'user', value: `spray-last|${address}` },
      { kind: 'ip', value: address },
    ]);
    expect(refused).toMatchObject({ allowed: false });
    // The refused attempt's (username, address) reservation was given back.
    const again = await throttle.reserve([{ kind: 'user', value: `spray-last|${address}` }]);
    expect(again).toMatchObject({ allowed: true, reservations: [{ count: 1 }] });
  });
});

describe('the window slides', () => {
  it('attempts older than 15 minutes stop counting, and Retry-After says when the oldest counted one leaves', async () => {
    const db = servers.direct.tollgate.database.knex;
    const throttle = new AttemptThrottle(db);
    const subject = { kind: 'user' as const, value: `window|${addressOf('window')}` };
    for (let i = 0; i < LIMIT; i += 1) expect((await throttle.reserve([subject])).allowed).toBe(true);
    const full = await throttle.reserve([subject]);
    expect(full.allowed).toBe(false);
    expect(full.allowed === false && full.retryAfterSeconds).toBeGreaterThan(WINDOW_SECONDS - 30);
    // Move the five oldest attempts ten minutes back: they leave the window in about five minutes.
    const shift = (minutes: number, count: number) =>
      db.raw(
        `UPDATE attempt_reservations SET reserved_at = reserved_at[1:${LIMIT - count}] || ARRAY(
         SELECT t - make_interval(mins => ${minutes}) FROM unnest(reserved_at[${LIMIT - count + 1}:]) AS t) WHERE key = ?`,
        [keyFor(subject)],
      );
    await shift(10, 5);
    const later = await throttle.reserve([subject]);
    expect(later.allowed === false && later.retryAfterSeconds).toBeGreaterThan(5 * 60 - 30);
    expect(later.allowed === false && later.retryAfterSeconds).toBeLessThanOrEqual(5 * 60);
    // Six more minutes: those five are out of the window, five new attempts fit, not a sixth.
    await shift(6, 5);
    for (let i = 0; i < 5; i += 1) expect((await throttle.reserve([subject])).allowed, `attempt ${i + 1}`).toBe(true);
    expect((await throttle.reserve([subject])).allowed).toBe(false);
  });
});

describe('device code entry', () => {
  /** A browser session on the device page: each entry posts the form the previous answer showed. */
  async function deviceSession(server: TestServer) {
    const agent = server.public();
    let page = await agent.get('/device');
    expect(page.status).toBe(200);
    return async (code: string, forwardedFor: string) => {
      const action = /<form method="post" action="([^"]+)"/.exec(page.text)?.[1]?.replace(/&amp;/g, '&');
      const xsrf = /name="xsrf" value="([^"]*)"/.exec(page.text)?.[1];
      expect(action && xsrf, page.text).toBeTruthy();
      const response = await agent
        .post(new URL(action!, server.issuer).pathname)
        .type('form')
        .set('X-Forwarded-For', forwardedFor)
        .send({ xsrf, user_code: code });
      if (response.status !== 429) page = response;
      return response;
    };
  }

  it('at most 10 wrong codes per address are checked, however X-Forwarded-For rotates; then 429 with Retry-After', async () => {
    const enter = await deviceSession(servers.proxied);
    const guesser = addressOf('device-guesser');
    for (let i = 0; i < LIMIT; i += 1) {
      const wrong = await enter('BCDF-GHJK', `${randomIp()}, ${guesser}`);
      expect(wrong.status, `attempt ${i + 1}`).toBe(400);
      expect(wrong.text).toContain('That code is not valid');
    }
    const refused = await enter('BCDF-GHJK', `${randomIp()}, ${guesser}`);
    expect(refused.status).toBe(429);
    expect(Number(refused.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    expect(refused.text.toLowerCase()).toContain('try again later');
    // Another address is not affected.
    expect((await enter('BCDF-GHJK', addressOf('device-other'))).text).toContain('That code is not valid');
  });

  it('15 concurrent wrong codes from one address: at most 10 are checked', async () => {
    const sessions = [];
    for (let i = 0; i < 15; i += 1) sessions.push(await deviceSession(servers.proxied));
    const guesser = addressOf('device-burst');
    const results = await Promise.all(sessions.map((enter) => enter('BCDF-GHJK', guesser)));
    expect(results.map((r) => r.status).sort()).toEqual([...Array(10).fill(400), ...Array(5).fill(429)]);
  });
});
