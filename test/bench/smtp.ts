/**
 * A real SMTP server in the test or bench process (smtp-server): what Stride's jobs sent, as a mail server received
 * it, each message parsed with mailparser (tests) or only counted (the bench, `parse: false`). `holdAt(n)` leaves the
 * n-th message unanswered (no "250 OK"), to kill the sender while it waits; a held message was never accepted, as
 * SMTP defines delivery.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface TestSmtp {
  url: string;
  /** Messages accepted (answered 250), in order (parsed ones only). */
  accepted: ParsedMail[];
  /** How many were accepted, and their bytes. */
  count(): number;
  bytes(): number;
  /** How many DATA commands began (accepted or not). */
  started(): number;
  /** Holds the n-th message (1-based) from now: its DATA is read, never answered; resolves when it arrives. */
  holdAt(n: number): Promise<void>;
  close(): Promise<void>;
}

export interface SmtpOptions {
  /** false: count messages and bytes only (the bench). */
  parse?: boolean;
  /** Recipients refused at RCPT TO with "550 Mailbox unavailable" while this says so. */
  refuse?: (address: string) => boolean;
}

export async function startSmtp(options: SmtpOptions = {}): Promise<TestSmtp> {
  const accepted: ParsedMail[] = [];
  let started = 0;
  let count = 0;
  let bytes = 0;
  let hold: { n: number; arrived: () => void } | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // No reverse DNS lookup of 127.0.0.1 per connection: it waits on the resolver.
    disableReverseLookup: true,
    logger: false,
    onRcptTo(address, _session, callback) {
      if (options.refuse?.(address.address)) return callback(Object.assign(new Error('Mailbox unavailable'), { responseCode: 550 }));
      callback();
    },
    onData(stream, _session, callback) {
      started += 1;
      stream.on('data', (c: Buffer) => (bytes += c.length));
      if (options.parse === false) {
        stream.on('end', () => {
          count += 1;
          callback();
        });
        return;
      }
      const held = hold && started === hold.n ? hold : undefined;
      simpleParser(stream).then(
        (mail) => {
          if (held) {
            hold = undefined;
            held.arrived();
            return; // never answered
          }
          accepted.push(mail);
          count += 1;
          callback();
        },
        (err: Error) => callback(err),
      );
    },
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const port = (server.server.address() as AddressInfo).port;
  return {
    url: `smtp://127.0.0.1:${port}`,
    accepted,
    count: () => count,
    bytes: () => bytes,
    started: () => started,
    holdAt: (n) => new Promise<void>((resolve) => (hold = { n: started + n, arrived: resolve })),
    close: () => new Promise<void>((resolve) => server.close(() => resolve())),
  };
}

/** The key a message stands for, from its Message-ID: <statement.INVOICE@domain> -> statement:INVOICE. */
export function keyOf(mail: ParsedMail): string {
  const m = /^<?([a-z0-9-]+)\.([A-Za-z0-9\-.]+)@/.exec(mail.messageId ?? '');
  return m ? `${m[1]}:${m[2]}` : `? ${mail.messageId}`;
}
