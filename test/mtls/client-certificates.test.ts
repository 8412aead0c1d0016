import { afterAll, describe, expect, it } from 'vitest';
import {
  certificateThumbprint,
  issuedByTrustedCa,
  parseClientCertHeader,
  parseDistinguishedName,
  sanDnsMatches,
  subjectMatches,
  usableForClientAuth,
  withinValidity,
} from '../../src/lib/client-certificates.js';
import { certificateProvesClient } from '../../src/clients/certificate-authentication.js';
import { CertificateFactory, clientCertHeader } from '../helpers/certificates.js';

/** The certificate rules on their own, against certificates openssl made. */

const certificates = new CertificateFactory();
const ca = certificates.selfSigned({ subject: '/CN=Unit CA', ca: true });
const leaf = certificates.issue(ca, { subject: '/C=DE/O=Acme, Inc./OU=Payments/CN=ledger', dns: ['Ledger.Internal'] });

afterAll(() => certificates.cleanup());

describe('subject DN (tls_client_auth_subject_dn)', () => {
  it.each([
    'CN=ledger,OU=Payments,O=Acme\\, Inc.,C=DE',
    'C=DE,O=Acme\\, Inc.,OU=Payments,CN=ledger',
    'cn=Ledger, ou=payments, o=ACME\\, INC., c=de',
  ])('matches %s: the same attributes in any order or case', (dn) => {
    expect(subjectMatches(leaf.x509, dn)).toBe(true);
  });

  it.each([
    'CN=ledger,OU=Payments,C=DE', // one attribute missing
    'CN=ledger,OU=Payments,O=Acme\\, Inc.,C=DE,L=Berlin', // one too many
    'CN=ledger2,OU=Payments,O=Acme\\, Inc.,C=DE',
    'CN=ledger,OU=Payments,O=Acme,C=DE', // the escaped comma is part of the value
  ])('does not match %s', (dn) => {
    expect(subjectMatches(leaf.x509, dn)).toBe(false);
  });

  it.each(['', 'ledger', '=x', 'CN=', 'CN=a,,O=b', 'C N=a'])('refuses %j as a DN', (dn) => {
    expect(parseDistinguishedName(dn)).toBeUndefined();
  });
});

describe('SAN DNS (tls_client_auth_san_dns)', () => {
  it('matches a dNSName exactly, case-insensitively; never a prefix or a wildcard', () => {
    expect(sanDnsMatches(leaf.x509, 'ledger.internal')).toBe(true);
    expect(sanDnsMatches(leaf.x509, 'internal')).toBe(false);
    expect(sanDnsMatches(leaf.x509, '*.internal')).toBe(false);
  });
});

describe('SAN DNS entries are compared whole', () => {
  it('a dNSName holding a comma and another name does not match that name', () => {
    const crafted = certificates.issue(ca, { subject: '/CN=mallory', dns: ['x, DNS:ledger.internal, y'] });
    // The entry is there (Node quotes it and escapes its commas in subjectAltName's text); the
    // comparison must not find a name inside it.
    expect(sanDnsMatches(crafted.x509, 'ledger.internal')).toBe(false);
    expect(sanDnsMatches(crafted.x509, 'x')).toBe(false);
  });
});

describe('a tls_client_auth certificate is one meant for clients', () => {
  const client = { authMethod: 'tls_client_auth' as const, tlsSubjectDn: 'CN=svc', tlsSanDns: null, jwks: [] };
  it.each([
    ['clientAuth', true],
    ['clientAuth,serverAuth', true],
    ['serverAuth', false],
    ['emailProtection', false],
  ])('extendedKeyUsage %s: %s', (usage, accepted) => {
    const certificate = certificates.issue(ca, { subject: '/CN=svc', extendedKeyUsage: usage });
    expect(usableForClientAuth(certificate.x509)).toBe(accepted);
    expect(certificateProvesClient(client, certificate.x509, [ca.x509])).toBe(accepted);
  });
});

describe('chain and validity', () => {
  it('is issued by its CA and no other; an expired certificate is outside its validity', () => {
    const other = certificates.selfSigned({ subject: '/CN=Unit CA', ca: true });
    expect(issuedByTrustedCa(leaf.x509, [ca.x509])).toBe(true);
    // Same name, another key: the signature decides, not the issuer's name.
    expect(issuedByTrustedCa(leaf.x509, [other.x509])).toBe(false);
    // A leaf is no CA, even when it is its own issuer.
    const selfSigned = certificates.selfSigned({ subject: '/CN=me' });
    expect(issuedByTrustedCa(selfSigned.x509, [selfSigned.x509])).toBe(false);
    expect(withinValidity(leaf.x509)).toBe(true);
    expect(withinValidity(certificates.issue(ca, { subject: '/CN=old', days: -1 }).x509)).toBe(false);
  });
});

describe('the RFC 9440 header', () => {
  it('reads `:base64(DER):` back to the same certificate, its thumbprint that of the DER', () => {
    const parsed = parseClientCertHeader(clientCertHeader(leaf));
    expect(parsed && certificateThumbprint(parsed)).toBe(leaf.x5tS256);
  });

  it('takes the byte sequence without its `=` padding too (RFC 8941 §4.2.7)', () => {
    const parsed = parseClientCertHeader(clientCertHeader(leaf).replace(/=+:$/, ':'));
    expect(parsed && certificateThumbprint(parsed)).toBe(leaf.x5tS256);
  });

  it.each([
    ['no colons', () => clientCertHeader(leaf).slice(1, -1)],
    ['PEM', () => leaf.certPem],
    // One base64 character fewer: no longer a whole number of base64 quanta (with or without padding).
    ['a base64 character missing', () => clientCertHeader(leaf).replace(/^:(.{10})./, ':$1')],
    ['two values', () => `${clientCertHeader(leaf)}, ${clientCertHeader(leaf)}`],
    ['not a certificate', () => `:${Buffer.from('hello world').toString('base64')}:`],
    // OpenSSL would read the certificate and ignore what follows it.
    ['a certificate with bytes after it', () => `:${Buffer.concat([leaf.der, Buffer.from([0])]).toString('base64')}:`],
  ])('refuses %s', (_what, value) => {
    expect(parseClientCertHeader(value())).toBeUndefined();
  });
});
