import type { PeerCertificate } from 'node:tls';
import type { NodeId } from '../../core/index.js';

/**
 * Whether a certificate names `id`: as its subject common name, or as a DNS or URI subject
 * alternative name. Node quotes any alternative name that contains a separator, so a crafted name
 * cannot smuggle in a second entry.
 */
export function certificateNames(certificate: PeerCertificate, id: NodeId): boolean {
  const commonName = certificate.subject?.CN;
  const names = Array.isArray(commonName) ? commonName : [commonName];
  if (names.includes(id)) return true;
  const alternatives = certificate.subjectaltname?.split(', ') ?? [];
  return alternatives.includes(`DNS:${id}`) || alternatives.includes(`URI:${id}`);
}
