import net from 'node:net';
import type { AddressInfo } from 'node:net';

/**
 * A TCP proxy between a Tollgate and PostgreSQL, to take the database away from a running server
 * and give it back — without touching the PostgreSQL server other tests use.
 * - refuse(): every connection is dropped and new ones are refused (a database that went down);
 * - blackhole(): connections stay open and new ones are accepted, but nothing gets through (a
 *   host gone silent, a network partition) — only timeouts can notice;
 * - restore(): forwards again (connections swallowed meanwhile are dropped); a no-op when forwarding.
 */
export interface DatabaseProxy {
  /** The database URL that goes through the proxy. */
  url: string;
  refuse(): Promise<void>;
  blackhole(): void;
  restore(): Promise<void>;
  close(): Promise<void>;
}

export async function startDatabaseProxy(databaseUrl: string): Promise<DatabaseProxy> {
  const target = new URL(databaseUrl);
  const pairs = new Set<{ incoming: net.Socket; outgoing?: net.Socket }>();
  let mode: 'forward' | 'blackhole' = 'forward';
  let server: net.Server | undefined;

  function drop(pair: { incoming: net.Socket; outgoing?: net.Socket }): void {
    pair.incoming.destroy();
    pair.outgoing?.destroy();
    pairs.delete(pair);
  }

  function accept(incoming: net.Socket): void {
    const pair: { incoming: net.Socket; outgoing?: net.Socket } = { incoming };
    pairs.add(pair);
    incoming.on('error', () => drop(pair));
    incoming.on('close', () => drop(pair));
    if (mode === 'blackhole') return; // accepted, never answered
    const outgoing = net.connect(Number(target.port || 5432), target.hostname);
    pair.outgoing = outgoing;
    outgoing.on('error', () => drop(pair));
    outgoing.on('close', () => drop(pair));
    incoming.pipe(outgoing);
    outgoing.pipe(incoming);
  }

  async function listen(port = 0): Promise<number> {
    server = net.createServer(accept);
    await new Promise<void>((resolve) => server!.listen(port, '127.0.0.1', resolve));
    return (server.address() as AddressInfo).port;
  }

  async function stopListening(): Promise<void> {
    const closing = server;
    server = undefined;
    if (closing) await new Promise((resolve) => closing.close(resolve));
  }

  const port = await listen();
  const url = new URL(databaseUrl);
  url.hostname = '127.0.0.1';
  url.port = String(port);

  return {
    url: url.href,
    async refuse() {
      const closed = stopListening();
      for (const pair of [...pairs]) drop(pair);
      await closed;
    },
    blackhole() {
      mode = 'blackhole';
      for (const { incoming, outgoing } of pairs) {
        incoming.unpipe();
        outgoing?.unpipe();
        incoming.pause();
        outgoing?.pause();
      }
    },
    async restore() {
      // Swallowed connections are dropped (their peers have given up on them); forwarding ones stay.
      if (mode === 'blackhole') for (const pair of [...pairs]) drop(pair);
      mode = 'forward';
      if (!server) await listen(port);
    },
    async close() {
      const closed = stopListening();
      for (const pair of [...pairs]) drop(pair);
      await closed;
    },
  };
}
