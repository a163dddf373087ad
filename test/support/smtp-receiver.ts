// A real SMTP server on loopback (the smtp-server package): STARTTLS with a certificate made for the
// test by openssl, a login it checks, and every message it accepts kept for the test to read.
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SMTPServer } from 'smtp-server';
import { selfSignedCertificate } from './self-signed.js';

export interface ReceivedMail {
  from: string;
  to: string[];
  raw: string;
  /** The raw message with quoted-printable undone, for reading the text parts. */
  text: string;
  subject: string;
}

function unquotePrintable(raw: string): string {
  return raw
    .replace(/=\r?\n/g, '')
    .replace(/(?:=[0-9A-F]{2})+/g, (run) => Buffer.from(run.replace(/=/g, ''), 'hex').toString('utf8'));
}

export class SmtpReceiver {
  readonly mails: ReceivedMail[] = [];
  readonly caFile: string;
  private readonly dir: string;
  private readonly server: SMTPServer;

  constructor(
    readonly user = 'csdrift',
    readonly password = 'smtp-pa55-word',
  ) {
    this.dir = mkdtempSync(join(tmpdir(), 'csdrift-smtp-'));
    const { keyFile: key, certFile } = selfSignedCertificate(this.dir);
    this.caFile = certFile;
    this.server = new SMTPServer({
      key: readFileSync(key),
      cert: readFileSync(this.caFile),
      authMethods: ['PLAIN', 'LOGIN'],
      onAuth: (auth, _session, callback) => {
        if (auth.username === this.user && auth.password === this.password)
          return callback(null, { user: auth.username });
        return callback(new Error('Invalid username or password'));
      },
      onData: (stream, session, callback) => {
        const chunks: Buffer[] = [];
        stream.on('data', (c: Buffer) => chunks.push(c));
        stream.on('end', () => {
          const raw = Buffer.concat(chunks).toString('utf8');
          this.mails.push({
            from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
            to: session.envelope.rcptTo.map((r) => r.address),
            raw,
            text: unquotePrintable(raw),
            subject: /^Subject: (.*)$/m.exec(raw)?.[1] ?? '',
          });
          callback();
        });
      },
      logger: false,
    });
  }

  get port(): number {
    return (this.server.server.address() as AddressInfo).port;
  }

  async start(): Promise<this> {
    await new Promise<void>((resolve) => this.server.listen(0, '127.0.0.1', resolve));
    return this;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
    rmSync(this.dir, { recursive: true, force: true });
  }
}
