import http from 'node:http';
import https from 'node:https';
import type { Config } from '../config.js';

/**
 * The public listener's server: plain HTTP (TLS ends at a proxy in front, or a loopback rig), or
 * HTTPS with TLS_CERT/TLS_KEY. With TLS_CLIENT_CA it asks every client for a certificate and lets
 * the handshake succeed without one, or with one that does not verify: browsers, public clients
 * and secret-holding services are not bothered, and whether a certificate authenticates a client
 * is decided per client, with an OAuth error a client can read (src/clients/certificate-authentication.ts),
 * rather than by a failed handshake it cannot. Self-signed client certificates arrive the same way.
 */
export function createPublicServer(config: Pick<Config, 'tls' | 'clientCa'>): http.Server {
  if (!config.tls) return http.createServer();
  return https.createServer({
    cert: config.tls.cert,
    key: config.tls.key,
    ...(config.clientCa ? { requestCert: true, rejectUnauthorized: false, ca: config.clientCa.pem } : {}),
  });
}
