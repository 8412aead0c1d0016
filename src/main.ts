import './runtime-check.js';
import http from 'node:http';
import { ConfigError, loadConfig } from './config.js';
import { createLogger, type Logger } from './log.js';
import { createTollgate } from './tollgate.js';

function listen(server: http.Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** oidc-provider prints its notices with console.info/warn; keep every line of output JSON. */
function routeLibraryNotices(logger: Logger): void {
  for (const method of ['info', 'warn'] as const) {
    const original = console[method].bind(console);
    console[method] = (...args: unknown[]) => {
      const [first] = args;
      if (typeof first === 'string' && first.includes('oidc-provider ')) {
        // Tollgate reads some form bodies before oidc-provider on purpose (src/http/form-peek.ts).
        const expected = method === 'info' || first.includes('already parsed request body');
        logger[expected ? 'debug' : 'warn']({ source: 'oidc-provider' }, first.replace(/\x1b\[[0-9;]*m/g, ''));
      } else {
        original(...args);
      }
    };
  }
}

async function main(): Promise<void> {
  const config = loadConfig();
  const logger = createLogger(config.logLevel);
  routeLibraryNotices(logger);
  const tollgate = await createTollgate(config, logger);
  const publicServer = http.createServer(tollgate.publicApp.callback());
  const adminServer = http.createServer(tollgate.adminApp.callback());
  try {
    await listen(publicServer, config.port, config.host);
    await listen(adminServer, config.adminPort, config.adminHost);
  } catch (error) {
    publicServer.close();
    await tollgate.close();
    const { code } = error as NodeJS.ErrnoException;
    throw new Error(code === 'EADDRINUSE' ? `a port is already in use (${(error as Error).message.replace(/^listen EADDRINUSE: address already in use /, '')}); set PORT / ADMIN_PORT` : (error as Error).message);
  }
  logger.info({
    issuer: config.issuer,
    public: `http://${config.host}:${config.port}`,
    admin: `http://${config.adminHost}:${config.adminPort}`,
    database: tollgate.database.kind,
    admin_token: config.adminToken ? 'from ADMIN_TOKEN' : `in ${config.dataDir}/admin-token`,
  }, 'Tollgate is listening');

  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, 'shutting down');
    const closed = Promise.all([
      new Promise((resolve) => publicServer.close(resolve)),
      new Promise((resolve) => adminServer.close(resolve)),
    ]);
    publicServer.closeIdleConnections();
    adminServer.closeIdleConnections();
    // In-flight requests get a few seconds; then the process ends regardless.
    setTimeout(() => process.exit(0), 5000).unref();
    void closed.then(() => tollgate.close()).then(() => {
      logger.flush();
      process.exit(0);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
}

main().catch((error: unknown) => {
  const message = error instanceof ConfigError ? error.message : (error as Error).message;
  process.stderr.write(`tollgate: could not start: ${message}\n`);
  process.exit(1);
});
