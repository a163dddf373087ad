// A throwaway self-signed certificate for a TLS server a test starts (the SMTP receiver, an HTTPS
// store): made by openssl, valid a day, for the names given; its certificate is its own CA.
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';

export function selfSignedCertificate(
  dir: string,
  subjectAltName = 'DNS:localhost,IP:127.0.0.1',
): { keyFile: string; certFile: string } {
  const keyFile = join(dir, 'key.pem');
  const certFile = join(dir, 'cert.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-days',
      '1',
      '-subj',
      '/CN=localhost',
      '-addext',
      `subjectAltName=${subjectAltName}`,
      '-keyout',
      keyFile,
      '-out',
      certFile,
    ],
    { stdio: 'ignore' },
  );
  return { keyFile, certFile };
}
