import { execFileSync } from 'node:child_process';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * X.509 certificates made at test time with the openssl command line — the same tool the README's
 * "Service-to-service with certificates" walkthrough uses, so the tests exercise what a newcomer
 * makes. (Node can parse certificates but not issue them; openssl is installed on CI.)
 */
export interface TestCertificate {
  /** PEM of the certificate, and its file. */
  certPem: string;
  certFile: string;
  /** PEM (PKCS#8) of its private key, and its file. */
  keyPem: string;
  keyFile: string;
  /** The certificate's DER bytes. */
  der: Buffer;
  x509: X509Certificate;
  /** RFC 8705 §3.1 `x5t#S256`: base64url of the SHA-256 of the DER certificate. */
  x5tS256: string;
}

export interface CertificateOptions {
  /** openssl's form: `/CN=orders/O=Acme`. */
  subject: string;
  /** subjectAltName DNS names. */
  dns?: string[];
  /** subjectAltName IP addresses (a server certificate for 127.0.0.1). */
  ips?: string[];
  /** Validity in days; negative makes a certificate already expired. Default 1. */
  days?: number;
  /** `ec` (P-256, default) or `rsa` (2048). */
  keyType?: 'ec' | 'rsa';
  /** Whether it may sign other certificates (a CA). */
  ca?: boolean;
  /** extendedKeyUsage of a non-CA certificate; default `clientAuth,serverAuth`. */
  extendedKeyUsage?: string;
}

export class CertificateFactory {
  private readonly dir = mkdtempSync(join(tmpdir(), 'tollgate-certs-'));
  private serial = 0;

  /** A self-signed certificate: a CA with `ca: true`, a client's own certificate otherwise. */
  selfSigned(options: CertificateOptions): TestCertificate {
    return this.certify(options, (keyFile) => ['-signkey', keyFile]);
  }

  /** A certificate issued by `issuer` (made with `selfSigned({ ca: true, … })`). */
  issue(issuer: TestCertificate, options: CertificateOptions): TestCertificate {
    return this.certify(options, () => [
      '-CA',
      issuer.certFile,
      '-CAkey',
      issuer.keyFile,
      '-set_serial',
      String(1000 + this.serial),
    ]);
  }

  /**
   * A new key, a request for `options.subject`, and `x509 -req` signing it as `signer` says
   * (`-signkey` for self-signed: unlike `req -x509` it takes a negative validity, an expired one).
   */
  private certify(options: CertificateOptions, signer: (keyFile: string) => string[]): TestCertificate {
    const name = this.nextName();
    const keyFile = this.newKey(name, options.keyType);
    const csrFile = join(this.dir, `${name}.csr`);
    const certFile = join(this.dir, `${name}.pem`);
    this.openssl(['req', '-new', '-key', keyFile, '-subj', options.subject, '-out', csrFile]);
    const extFile = this.extensions(name, options);
    this.openssl([
      'x509',
      '-req',
      '-in',
      csrFile,
      ...signer(keyFile),
      '-days',
      String(options.days ?? 1),
      '-extfile',
      extFile,
      '-extensions',
      'ext',
      '-out',
      certFile,
    ]);
    return this.read(certFile, keyFile);
  }

  /** A CA, a TLS server certificate for localhost/127.0.0.1 from it, in one call. */
  serverSetup(): { ca: TestCertificate; server: TestCertificate } {
    const ca = this.selfSigned({ subject: '/CN=Tollgate Test CA', ca: true });
    const server = this.issue(ca, { subject: '/CN=localhost', dns: ['localhost'], ips: ['127.0.0.1'] });
    return { ca, server };
  }

  /** Writes `content` to a file of this factory's folder (a CA bundle of several PEMs, say). */
  file(name: string, content: string): string {
    const path = join(this.dir, name);
    writeFileSync(path, content, { mode: 0o600 });
    return path;
  }

  cleanup(): void {
    rmSync(this.dir, { recursive: true, force: true });
  }

  private nextName(): string {
    this.serial += 1;
    return `c${this.serial}`;
  }

  private newKey(name: string, keyType: 'ec' | 'rsa' = 'ec'): string {
    const keyFile = join(this.dir, `${name}.key`);
    const algorithm =
      keyType === 'rsa'
        ? ['-algorithm', 'RSA', '-pkeyopt', 'rsa_keygen_bits:2048']
        : ['-algorithm', 'EC', '-pkeyopt', 'ec_paramgen_curve:P-256'];
    this.openssl(['genpkey', ...algorithm, '-out', keyFile]);
    return keyFile;
  }

  /** An openssl config holding only the `[ext]` section the certificate carries. */
  private extensions(name: string, options: CertificateOptions): string {
    // A section of its own: one entry a line, so a name may hold a comma (a crafted SAN, for tests).
    const alt = [
      ...(options.dns ?? []).map((name, index) => `DNS.${index + 1} = ${name}`),
      ...(options.ips ?? []).map((ip, index) => `IP.${index + 1} = ${ip}`),
    ];
    const lines = [
      '[req]',
      'distinguished_name = dn',
      '[dn]',
      '[ext]',
      options.ca ? 'basicConstraints = critical,CA:TRUE' : 'basicConstraints = CA:FALSE',
      options.ca ? 'keyUsage = critical,keyCertSign,cRLSign' : 'keyUsage = digitalSignature,keyEncipherment',
      ...(options.ca ? [] : [`extendedKeyUsage = ${options.extendedKeyUsage ?? 'clientAuth,serverAuth'}`]),
      ...(alt.length > 0 ? ['subjectAltName = @alt', '[alt]', ...alt] : []),
    ];
    return this.file(`${name}.cnf`, `${lines.join('\n')}\n`);
  }

  private read(certFile: string, keyFile: string): TestCertificate {
    const certPem = readFileSync(certFile, 'utf8');
    const x509 = new X509Certificate(certPem);
    const der = x509.raw;
    return {
      certPem,
      certFile,
      keyPem: readFileSync(keyFile, 'utf8'),
      keyFile,
      der,
      x509,
      x5tS256: createHash('sha256').update(der).digest('base64url'),
    };
  }

  private openssl(args: string[]): void {
    execFileSync('openssl', args, { stdio: ['ignore', 'ignore', 'pipe'] });
  }
}

/** The RFC 9440 `Client-Cert` header value of a certificate: its DER as a structured-field byte sequence. */
export function clientCertHeader(certificate: TestCertificate): string {
  return `:${certificate.der.toString('base64')}:`;
}
