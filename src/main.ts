import './runtime-check.js';
import http from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { requestListener } from './lib/request-listener.js';
import { Drain } from './http/drain.js';
import { createLogger } from './log.js';
import { createTollgate } from './tollgate.js';
import { adminTokenPath } from './lib/admin-defaults.js';
import { routeProviderNotices } from './oidc-provider/internals.js';
import { createPublicServer } from './http/public-server.js';

/** Closing the database after the listeners have drained; beyond it the process exits with 1. */
const DATABASE_CLOSE_TIMEOUT_MS = 10_000;

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  routeProviderNotices(logger);
  const tollgate = await createTollgate(config, logger);
  const publicServer = createPublicServer(config);
  const adminServer = http.createServer();
  const drain = new Drain();
  drain.listen(publicServer, requestListener(tollgate.publicApp), { readinessPath: '/readyz' });
  drain.listen(adminServer, requestListener(tollgate.adminApp));
  try {
    await listen(publicServer, config.port, config.host);
    await listen(adminServer, config.adminPort, config.adminHost);
  } catch (error) {
    publicServer.close();
    await tollgate.close();
    const { code } = error as NodeJS.ErrnoException;
    throw new Error(
      code === 'EADDRINUSE'
        ? `a port is already in use (${(error as Error).message.replace(/^listen EADDRINUSE: address already in use /, '')}); set PORT / ADMIN_PORT`
        : (error as Error).message,
    );
  }
  // Before the line that says the server is up: whoever reads it may send SIGTERM at once.
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      // A second signal (Ctrl-C twice): no more waiting for requests in flight.
      drain.cutNow();
      return;
    }
    stopping = true;
    logger.info(
      { signal, grace_seconds: config.shutdownGraceSeconds },
      'shutting down: no new connections, finishing requests in flight',
    );
    const inTime = await drain.drain(config.shutdownGraceSeconds * 1000);
    if (!inTime) logger.warn('shutdown grace period over: connections with requests still in flight were closed');
    // Should the database not let go (unreachable), the process still ends.
    setTimeout(() => process.exit(1), DATABASE_CLOSE_TIMEOUT_MS).unref();
    let code = 0;
    try {
      await tollgate.close();
      logger.info('stopped');
    } catch (error) {
      logger.error({ err: { message: (error as Error).message } }, 'closing the database failed');
      code = 1;
    }
    logger.flush(() => process.exit(code));
  };
  process.on('SIGTERM', () => void stop('SIGTERM'));
  process.on('SIGINT', () => void stop('SIGINT'));
  logger.info(
    {
      issuer: config.issuer,
      public: `${config.tls ? 'https' : 'http'}://${config.host}:${config.port}`,
      ...(config.clientCa || config.clientCertHeader
        ? {
            client_certificates: config.clientCertHeader
              ? `from the ${config.clientCertHeader} header`
              : 'asked for in TLS',
          }
        : {}),
      admin: `http://${config.adminHost}:${config.adminPort}`,
      database: tollgate.database.kind,
      admin_token: config.adminToken ? 'from ADMIN_TOKEN' : `in ${adminTokenPath(config.dataDir)}`,
    },
    'Tollgate is listening',
  );
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : (error as Error).message;
  process.stderr.write(`tollgate: could not start: ${message}\n`);
  process.exit(1);
});
