import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { expect } from 'vitest';
import { ResourceServerError, type Verifier, type VerifyRequestOptions } from '@tollgate/resource-server';
import type { TestServer } from '../helpers/server.js';
import type { Partner } from './api-key-helpers.js';

// What the tests of @tollgate/resource-server's API-key support against a real Tollgate share: a
// fetch that records what the library asks and can send it to a dead address, and error reading.

/** Where the recorded fetch sends requests: to Tollgate, to a closed port, or to a server that never answers. */
export type Route = 'tollgate' | 'refused' | 'hang';

/**
 * The global fetch, recording every request (the questions' forms included) and, when `route` says
 * so, sending it to a closed port or to a black hole instead of Tollgate: real network failures.
 */
export class RecordingFetch {
  route: Route = 'tollgate';
  readonly requests: { url: string; form: URLSearchParams | undefined; at: number; answeredAt?: number }[] = [];
  #closedPort = 0;
  #hang: net.Server | undefined;
  #hangSockets = new Set<net.Socket>();

  static async create(): Promise<RecordingFetch> {
    const recording = new RecordingFetch();
    const probe = net.createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    recording.#closedPort = (probe.address() as AddressInfo).port;
    await new Promise((resolve) => probe.close(resolve));
    recording.#hang = net.createServer((socket) => {
      recording.#hangSockets.add(socket);
      socket.on('close', () => recording.#hangSockets.delete(socket));
    });
    await new Promise<void>((resolve) => recording.#hang!.listen(0, '127.0.0.1', resolve));
    return recording;
  }

  readonly fetch = async (input: string | URL, init?: RequestInit): Promise<Response> => {
    const url = new URL(input);
    const body = init?.body;
    const record = {
      url: url.href,
      form: body instanceof URLSearchParams ? new URLSearchParams(body) : undefined,
      at: Date.now(),
      answeredAt: undefined as number | undefined,
    };
    this.requests.push(record);
    if (this.route === 'refused') url.port = String(this.#closedPort);
    if (this.route === 'hang') url.port = String((this.#hang!.address() as AddressInfo).port);
    const response = await fetch(url, init);
    record.answeredAt = Date.now();
    return response;
  };

  /** The verification questions asked so far (POSTs with a form). */
  get questions() {
    return this.requests.filter((request) => request.form !== undefined);
  }

  async close(): Promise<void> {
    for (const socket of this.#hangSockets) socket.destroy();
    await new Promise((resolve) => this.#hang?.close(resolve));
  }
}

export interface Refusal {
  status: number;
  code: string | undefined;
  description: string;
  wwwAuthenticate: string | undefined;
  name: string;
}

/** The ResourceServerError `verifyRequest` rejects with, as plain fields; fails the test if it resolves. */
export async function refusal(
  verifier: Verifier,
  headers: Record<string, string>,
  options: VerifyRequestOptions = { schemes: ['api-key'] },
): Promise<Refusal> {
  const error = await verifier
    .verifyRequest({ method: 'GET', url: 'http://api.example.com/orders', headers }, options)
    .then(
      (caller) => expect.unreachable(`accepted: ${JSON.stringify(caller)}`),
      (error: unknown) => error,
    );
  expect(error).toBeInstanceOf(ResourceServerError);
  const { status, code, description, wwwAuthenticate, name } = error as ResourceServerError;
  return { status, code, description, wwwAuthenticate, name };
}

export const INVALID_KEY: Refusal = {
  status: 401,
  code: 'invalid_token',
  description: 'the API key is not valid',
  wwwAuthenticate: 'Bearer error="invalid_token", error_description="the API key is not valid"',
  name: 'InvalidTokenError',
};

/** A client-credentials access token (a JWT) from Tollgate for the partner's API. */
export async function accessToken(server: TestServer, partner: Partner): Promise<string> {
  const response = await server
    .public()
    .post('/token')
    .auth(partner.client.client_id, partner.client.client_secret)
    .type('form')
    .send({ grant_type: 'client_credentials', scope: partner.api.scopes[0], resource: partner.api.identifier });
  expect(response.status, JSON.stringify(response.body)).toBe(200);
  return (response.body as { access_token: string }).access_token;
}

/** Sets columns of a key's row directly: a time in the past stands for a time that has come. */
export async function setKeyColumns(server: TestServer, id: string, columns: Record<string, unknown>): Promise<void> {
  await server.tollgate.database.knex('api_keys').where({ id }).update(columns);
}

/**
 * Environment for the Tollgate these tests start: test files share 127.0.0.1, and the refused
 * keys they present must not trip the per-address limit on refused questions.
 */
export const SERVER_ENV = { API_KEY_VERIFICATION_FAILURE_LIMIT: '1000000/min' };
