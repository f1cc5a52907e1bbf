import { X509Certificate } from 'node:crypto';
import type { PeerCertificate } from 'node:tls';
import { describe, expect, it } from 'vitest';
import { certificateNames } from './peer-identity.js';
import { testdata } from './tcp-test-cluster.test-helpers.js';

function peerCertificate(subject: Record<string, string>, subjectaltname?: string) {
  return {
    subject,
    ...(subjectaltname === undefined ? {} : { subjectaltname }),
  } as PeerCertificate;
}

describe('certificateNames', () => {
  it('matches the common name or a DNS or URI alternative name exactly', () => {
    expect(certificateNames(peerCertificate({ CN: 'a' }), 'a')).toBe(true);
    expect(certificateNames(peerCertificate({ CN: 'x' }, 'DNS:b, URI:spiffe://c'), 'b')).toBe(true);
    expect(
      certificateNames(peerCertificate({ CN: 'x' }, 'DNS:b, URI:spiffe://c'), 'spiffe://c'),
    ).toBe(true);
    expect(certificateNames(peerCertificate({ CN: 'ab' }, 'DNS:abc'), 'a')).toBe(false);
    expect(certificateNames(peerCertificate({ CN: 'x' }, 'IP Address:1.2.3.4'), '1.2.3.4')).toBe(
      false,
    );
  });

  it('reads the names in the test certificates', () => {
    const certificate = new X509Certificate(testdata('mallory-cert.pem'));
    expect(certificate.subject).toContain('CN=mallory');
    expect(certificate.subjectAltName).toBe('DNS:mallory');
  });
});
