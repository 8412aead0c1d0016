import { X509Certificate } from 'node:crypto';
import { sha256Base64url } from './sha256.js';

/**
 * X.509 client certificates (RFC 8705): reading them from PEM files and the RFC 9440 header,
 * their thumbprint, their validity, whether one of the trusted CAs issued them, and what their
 * subject says. Pure functions over node:crypto's X509Certificate; where a certificate comes from
 * (TLS socket or proxy header) is src/web/client-certificate.ts.
 */

/** RFC 9440 §2.2 leaves the size open; a certificate chain of a few KiB is usual, 16 KiB generous. */
export const MAX_CLIENT_CERT_HEADER = 16 * 1024;

/** RFC 8705 §3.1: base64url (no padding) of the SHA-256 of the DER certificate — a token's `cnf.x5t#S256`. */
export function certificateThumbprint(certificate: X509Certificate): string {
  return sha256Base64url(certificate.raw);
}

/** Every certificate of a PEM bundle (a CA file may hold several); throws on anything unreadable. */
export function parsePemCertificates(pem: string): X509Certificate[] {
  const blocks = pem.match(/-----BEGIN CERTIFICATE-----[\s\S]+?-----END CERTIFICATE-----/g) ?? [];
  if (!blocks.length) throw new Error('holds no PEM certificate ("BEGIN CERTIFICATE")');
  return blocks.map((block) => new X509Certificate(block));
}

/**
 * The certificate of an RFC 9440 `Client-Cert` header: its DER as a structured-field byte
 * sequence, `:` + standard base64 + `:`. Undefined for anything else — no colons, bad base64,
 * several values (Node joins repeated headers with a comma), too long, not a certificate — which
 * the caller treats as a bad certificate, never as no certificate.
 */
export function parseClientCertHeader(value: string): X509Certificate | undefined {
  if (value.length > MAX_CLIENT_CERT_HEADER) return undefined;
  const match = /^:([A-Za-z0-9+/]+={0,2}):$/.exec(value.trim());
  if (!match) return undefined;
  const text = match[1]!;
  const der = Buffer.from(text, 'base64');
  // Buffer.from skips what it cannot read: the bytes must give back exactly the text sent — but
  // for `=` padding, which RFC 8941 §4.2.7 asks parsers not to insist on.
  const canonical = der.toString('base64');
  if (canonical !== text && canonical.replace(/=+$/, '') !== text) return undefined;
  try {
    const certificate = new X509Certificate(der);
    // OpenSSL reads the first certificate and ignores what follows: the bytes must be exactly one.
    return certificate.raw.equals(der) ? certificate : undefined;
  } catch {
    return undefined;
  }
}

/** Whether `now` lies within the certificate's notBefore and notAfter. */
export function withinValidity(certificate: X509Certificate, now = Date.now()): boolean {
  const from = Date.parse(certificate.validFrom);
  const to = Date.parse(certificate.validTo);
  return Number.isFinite(from) && Number.isFinite(to) && from <= now && now <= to;
}

/**
 * Whether one of `trusted` issued the certificate: named as its issuer, its signature verifies
 * with that CA's key, and the CA is a CA and within its own validity. Every certificate of
 * TLS_CLIENT_CA is a trust anchor (an intermediate that issues client certificates is put there
 * itself): a proxy's header carries only the leaf, so there is no chain to walk.
 */
export function issuedByTrustedCa(
  certificate: X509Certificate,
  trusted: readonly X509Certificate[],
  now = Date.now(),
): boolean {
  return trusted.some(
    (ca) => ca.ca && withinValidity(ca, now) && certificate.checkIssued(ca) && certificate.verify(ca.publicKey),
  );
}

/** One attribute of a distinguished name, compared case-insensitively with its spaces collapsed. */
type Attribute = string;

function normalisedAttribute(type: string, value: string): Attribute {
  return `${type.trim().toUpperCase()}=${value.trim().replace(/\s+/g, ' ').toLowerCase()}`;
}

/** Splits at `separator` where it is not escaped with a backslash (RFC 4514 §2.4). */
function splitUnescaped(text: string, separator: RegExp): string[] {
  const parts: string[] = [];
  let current = '';
  for (let index = 0; index < text.length; index += 1) {
    const char = text[index]!;
    if (char === '\\' && index + 1 < text.length) {
      current += text[index + 1];
      index += 1;
    } else if (separator.test(char)) {
      parts.push(current);
      current = '';
    } else {
      current += char;
    }
  }
  parts.push(current);
  return parts;
}

/**
 * An operator's subject DN (`CN=orders,O=Acme`, RFC 4514 style) as its attributes; undefined
 * when it is not one (an empty part, a part without `TYPE=`).
 */
export function parseDistinguishedName(dn: string): Attribute[] | undefined {
  const parts = splitUnescaped(dn, /[,+]/);
  const attributes: Attribute[] = [];
  for (const part of parts) {
    const equals = part.indexOf('=');
    if (equals <= 0 || !/^\s*[A-Za-z][A-Za-z0-9-]*\s*$|^\s*\d+(\.\d+)+\s*$/.test(part.slice(0, equals)))
      return undefined;
    if (!part.slice(equals + 1).trim()) return undefined;
    attributes.push(normalisedAttribute(part.slice(0, equals), part.slice(equals + 1)));
  }
  return attributes.length ? attributes : undefined;
}

/**
 * The certificate's subject as attributes. Node gives one `TYPE=value` a line, escaping RFC 4514's
 * special characters in values with a backslash (`O=Acme\\, Inc.`), which are taken back here.
 */
function subjectAttributes(certificate: X509Certificate): Attribute[] {
  return certificate.subject
    .split('\n')
    .filter(Boolean)
    .map((line) => {
      const equals = line.indexOf('=');
      return normalisedAttribute(line.slice(0, equals), line.slice(equals + 1).replace(/\\(.)/g, '$1'));
    });
}

/**
 * RFC 8705 §2.1.2 `tls_client_auth_subject_dn`: the certificate's subject has exactly the
 * registered attributes. Order is not compared — people write `CN=…,O=…` for a certificate made
 * with `/O=…/CN=…` and the reverse — nor case or runs of spaces (caseIgnoreMatch, RFC 4517); the
 * certificate was issued by a trusted CA, whose names are not forged by reordering them.
 */
export function subjectMatches(certificate: X509Certificate, registered: string): boolean {
  const expected = parseDistinguishedName(registered);
  if (!expected) return false;
  const actual = subjectAttributes(certificate);
  const sorted = (list: Attribute[]) => [...list].sort().join('\n');
  return sorted(expected) === sorted(actual);
}

/**
 * RFC 8705 §2.1.2 `tls_client_auth_san_dns`: one of the certificate's dNSName entries, exactly (no
 * wildcards), case-insensitively. OpenSSL's own host check compares each entry whole, rather than
 * a parse of `subjectAltName`'s text, where an entry may itself hold a comma (Node quotes such an
 * entry and escapes the comma; a text split is only as safe as that escaping).
 */
export function sanDnsMatches(certificate: X509Certificate, registered: string): boolean {
  return (
    certificate.checkHost(registered, { subject: 'never', wildcards: false, partialWildcards: false }) !== undefined
  );
}

/** id-kp-clientAuth and anyExtendedKeyUsage (RFC 5280 §4.2.1.12). */
const CLIENT_AUTH_USAGES = ['1.3.6.1.5.5.7.3.2', '2.5.29.37.0'];

/**
 * Whether the certificate may be used to authenticate a TLS client: a certificate whose extended
 * key usage names purposes must name client authentication (a server certificate from the same
 * CA, with the same subject, is not a client's); one without the extension is not restricted.
 */
export function usableForClientAuth(certificate: X509Certificate): boolean {
  const usages = certificate.keyUsage as string[] | undefined;
  return usages === undefined || usages.some((usage) => CLIENT_AUTH_USAGES.includes(usage));
}

/** A DNS name as `--tls-san-dns` takes it: letters, digits, hyphens and dots, no wildcard. */
export function isDnsName(name: string): boolean {
  return (
    name.length <= 253 && name.split('.').every((label) => /^[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?$/.test(label))
  );
}
