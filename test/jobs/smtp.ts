/**
 * A real SMTP server in the test process (smtp-server), each message parsed with mailparser: what Stride's jobs
 * sent, as a mail server received it. `holdAt(n)` leaves the n-th message unanswered (no "250 OK"), to kill the
 * sender while it waits; a held message was never accepted, as SMTP defines delivery.
 */
import { SMTPServer } from 'smtp-server';
import { simpleParser, type ParsedMail } from 'mailparser';
import type { AddressInfo } from 'node:net';

export interface TestSmtp {
  url: string;
  /** Messages accepted (answered 250), in order. */
  accepted: ParsedMail[];
  /** How many DATA commands began (accepted or not). */
  started(): number;
  /** Holds the n-th message (1-based) from now: its DATA is read, never answered; resolves when it arrives. */
  holdAt(n: number): Promise<void>;
  close(): Promise<void>;
}

export async function startSmtp(): Promise<TestSmtp> {
  const accepted: ParsedMail[] = [];
  let started = 0;
  let hold: { n: number; arrived: () => void } | undefined;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    // No reverse DNS lookup of 127.0.0.1 per connection: it waits on the resolver.
    disableReverseLookup: true,
    logger: false,
    onData(stream, _session, callback) {
      started += 1;
      const held = hold && started === hold.n ? hold : undefined;
      simpleParser(stream).then(
        (mail) => {
          if (held) {
            hold = undefined;
            held.arrived();
            return; // never answered
          }
          accepted.push(mail);
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
