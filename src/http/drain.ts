import type http from 'node:http';

/** How often connections that fell idle are closed while draining. */
const IDLE_SWEEP_MS = 100;

const delay = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));

/**
 * Graceful shutdown of HTTP listeners: stop accepting, let the requests in flight finish within a
 * grace period, then cut whatever is left. While draining, every response closes its connection
 * (a keep-alive client must not hold the process open or send its next request into a closing
 * server) and readiness answers 503, so a load balancer that still asks on an open connection
 * takes this instance out of rotation.
 */
export class Drain {
  #draining = false;
  #cutNow: (() => void) | undefined;
  readonly #servers: http.Server[] = [];

  get draining(): boolean {
    return this.#draining;
  }

  /** A listener for `server` that answers as `handler` does until draining starts. */
  listen(server: http.Server, handler: http.RequestListener, options: { readinessPath?: string } = {}): void {
    this.#servers.push(server);
    server.on('request', (request: http.IncomingMessage, response: http.ServerResponse) => {
      if (!this.#draining) return handler(request, response);
      response.setHeader('Connection', 'close');
      const path = request.url?.split('?')[0];
      if (path === options.readinessPath && (request.method === 'GET' || request.method === 'HEAD')) {
        response.writeHead(503, { 'Content-Type': 'application/json', 'Cache-Control': 'no-store' });
        response.end(request.method === 'HEAD' ? undefined : JSON.stringify({ status: 'draining' }));
        return;
      }
      return handler(request, response);
    });
  }

  /**
   * Stops accepting connections and waits for the requests in flight, at most `graceMs` (or
   * until cutNow()); then closes the connections still open. Resolves true if every request
   * finished in time.
   */
  async drain(graceMs: number): Promise<boolean> {
    this.#draining = true;
    const closed = Promise.all(
      this.#servers.map((server) => new Promise<void>((resolve) => server.close(() => resolve()))),
    );
    // A connection becomes idle when its last response is sent; close each as soon as it does.
    const sweep = setInterval(() => {
      for (const server of this.#servers) server.closeIdleConnections();
    }, IDLE_SWEEP_MS);
    for (const server of this.#servers) server.closeIdleConnections();
    let timer: NodeJS.Timeout | undefined;
    const cut = new Promise<false>((resolve) => {
      timer = setTimeout(() => resolve(false), graceMs);
      this.#cutNow = () => resolve(false);
    });
    const inTime = await Promise.race([closed.then(() => true as const), cut]);
    clearTimeout(timer);
    clearInterval(sweep);
    if (!inTime) {
      for (const server of this.#servers) server.closeAllConnections();
      await Promise.race([closed, delay(1000)]);
    }
    return inTime;
  }

  /** Ends the grace period at once (a second signal). */
  cutNow(): void {
    this.#cutNow?.();
  }
}
