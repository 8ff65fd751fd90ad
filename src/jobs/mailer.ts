/**
 * Email out (issue 28 §3): one nodemailer SMTP transport from STRIDE_SMTP_URL (smtp://, smtps://, with user:password
 * when the server asks). Stride charges no card and hosts no mailbox: it hands messages to the clinic's SMTP server.
 */
import nodemailer from 'nodemailer';

export interface MailMessage {
  from: string;
  to: string;
  subject: string;
  text: string;
  /** Fixed per invoice and step, so that a copy sent again after a crash can be recognised as the same message. */
  messageId: string;
  attachments?: Array<{ filename: string; content: Buffer; contentType: string }>;
}

export interface Mailer {
  /** Resolves with the SMTP server's answer once it has accepted the message; rejects with its reason otherwise. */
  send(message: MailMessage): Promise<string>;
  close(): void;
}

export function createMailer(url: string): Mailer {
  // A pool keeps connections to the server open between messages (nodemailer's `pool` URL option): a statement run
  // sends thousands, and a new connection (and TLS handshake) for each would be most of the time.
  const pooled = /[?&]pool=/.test(url) ? url : `${url}${url.includes('?') ? '&' : '?'}pool=true`;
  const transport = nodemailer.createTransport(pooled);
  return {
    async send(m) {
      const info = await transport.sendMail({ from: m.from, to: m.to, subject: m.subject, text: m.text, messageId: m.messageId, attachments: m.attachments });
      return String(info.response ?? info.messageId);
    },
    close: () => transport.close(),
  };
}
