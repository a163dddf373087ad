// Email for clouds with no AWS account: each message through an SMTP server of the operator's
// (nodemailer), plain text first, the digest also as HTML. The password is read from a file, never
// put in the config, and never appears in an error.
import { readFile } from 'node:fs/promises';
import escapeHtml from 'escape-html';
import { createTransport } from 'nodemailer';
import type { Transporter } from 'nodemailer';
import type { AuditConfig } from '../core/config.js';
import { ConfigError } from '../core/errors.js';
import type { Notification } from '../core/notifications.js';
import { renderText } from '../core/notifications.js';
import { visible } from '../core/shell.js';
import { redact } from '../common/redact.js';
import type { Notifier } from './notifier.js';

export type SmtpSettings = NonNullable<NonNullable<AuditConfig['notify']>['smtp']>;

function digestHtml(m: Notification): string {
  return `<!DOCTYPE html><html><body><h2>${escapeHtml(subjectOf(m))}</h2><pre style="font: 13px/1.4 monospace">${escapeHtml(renderText(m))}</pre></body></html>`;
}

/** A mail subject: the title on one line, invisible characters shown (nodemailer encodes the rest). */
function subjectOf(m: Notification): string {
  return visible(m.title).slice(0, 200);
}

export class SmtpNotifier implements Notifier {
  readonly channel = 'email';

  private constructor(
    private readonly transport: Transporter,
    private readonly settings: SmtpSettings,
    private readonly password: string | undefined,
  ) {}

  /** Reads the password file and the CA file (when given); a missing file is a config error naming it. */
  static async open(settings: SmtpSettings): Promise<SmtpNotifier> {
    const read = async (path: string, what: string) => {
      try {
        return (await readFile(path, 'utf8')).replace(/\r?\n$/, '');
      } catch (err) {
        throw new ConfigError(
          `notify.smtp.${what}: cannot read ${path} (${(err as NodeJS.ErrnoException).code ?? 'error'})`,
        );
      }
    };
    const password = settings.passwordFile ? await read(settings.passwordFile, 'passwordFile') : undefined;
    const ca = settings.caFile ? await read(settings.caFile, 'caFile') : undefined;
    const transport = createTransport({
      host: settings.host,
      port: settings.port,
      secure: settings.tls === 'implicit',
      requireTLS: settings.tls === 'starttls',
      ignoreTLS: settings.tls === 'none',
      ...(settings.user ? { auth: { user: settings.user, pass: password ?? '' } } : {}),
      ...(ca ? { tls: { ca } } : {}),
      connectionTimeout: 15_000,
      greetingTimeout: 15_000,
      socketTimeout: 30_000,
    });
    return new SmtpNotifier(transport, settings, password);
  }

  async deliver(messages: Notification[]): Promise<{ sent: Notification[]; failures: string[] }> {
    const sent: Notification[] = [];
    const failures: string[] = [];
    for (const m of messages) {
      try {
        await this.transport.sendMail({
          from: this.settings.from,
          to: this.settings.to,
          subject: subjectOf(m),
          text: renderText(m),
          ...(m.kind === 'digest' ? { html: digestHtml(m) } : {}),
          headers: { 'X-Csdrift-Kind': m.kind, 'X-Csdrift-Rule': m.attributes.rule },
        });
        sent.push(m);
      } catch (err) {
        const e = err as { code?: string; responseCode?: number; message?: string };
        const why = redact(
          `${e.code ?? 'error'}${e.responseCode ? ` ${e.responseCode}` : ''}: ${e.message ?? ''}`,
          [this.password],
        );
        failures.push(`email "${subjectOf(m)}" not sent: ${why}`);
        // One refusal of the login or the connection refuses them all: do not hammer the server.
        if (e.code === 'EAUTH' || e.code === 'ECONNECTION' || e.code === 'ETLS') break;
      }
    }
    return { sent, failures };
  }

  close(): void {
    this.transport.close();
  }
}
