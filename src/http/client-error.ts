/**
 * Errors Node's HTTP parser raises before express sees a request (the server's `clientError` event): an unknown
 * method, a URL or header block larger than the parser takes, Content-Length beside Transfer-Encoding, a malformed
 * chunk, a request that took too long. Node would answer a bare `400` (or 431, 413, 408) with no body; here each
 * gets its status and an OperationOutcome, as every other error (DESIGN §3), and the connection is closed: after a
 * framing error nothing more on it can be read safely (RFC 9112 §6.3, §11.2). Nothing is written when the socket
 * is gone or a response to an earlier request on it is under way (Node's own default makes the same check).
 */
import { maxHeaderSize as NODE_MAX_HEADER_SIZE, type Server } from 'node:http';
import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { FHIR_JSON } from './respond.js';

interface ClientErrorAnswer {
  status: number;
  reason: string;
  code: string;
  text: string;
}

/** RFC 9110 status for each llhttp error code a client causes; anything else is a 400. */
export function answerFor(err: NodeJS.ErrnoException & { rawPacket?: Buffer }, maxHeaderSize: number): ClientErrorAnswer {
  switch (err.code) {
    case 'HPE_INVALID_METHOD':
      // RFC 9110 §9.1: a method the server does not recognise is 501.
      return { status: 501, reason: 'Not Implemented', code: 'not-supported', text: 'The request method is not one this server implements: FHIR uses GET, HEAD, POST, PUT, PATCH and DELETE' };
    case 'HPE_HEADER_OVERFLOW': {
      // The request line alone past the limit: the URL is too long (414); else the header fields are (431, RFC 6585 §5).
      const packet = err.rawPacket?.toString('latin1') ?? '';
      const lineEnd = packet.indexOf('\r\n');
      if (lineEnd < 0 || lineEnd >= maxHeaderSize / 2) {
        return { status: 414, reason: 'URI Too Long', code: 'too-long', text: `The URL is longer than this server takes (${maxHeaderSize} bytes for the request line and headers): send the search as POST [type]/_search` };
      }
      return { status: 431, reason: 'Request Header Fields Too Large', code: 'too-long', text: `The request's header fields are larger than this server takes (${maxHeaderSize} bytes in all)` };
    }
    case 'HPE_CHUNK_EXTENSIONS_OVERFLOW':
      return { status: 413, reason: 'Content Too Large', code: 'too-long', text: 'The chunk extensions of the body are too large' };
    case 'ERR_HTTP_REQUEST_TIMEOUT':
      return { status: 408, reason: 'Request Timeout', code: 'timeout', text: 'The request was not received in time' };
    case 'HPE_UNEXPECTED_CONTENT_LENGTH':
    case 'HPE_INVALID_TRANSFER_ENCODING':
      if (!/Content-Length/i.test(err.message)) return { status: 400, reason: 'Bad Request', code: 'structure', text: `The request's Transfer-Encoding is not valid: ${err.message.split('\n')[0]}` };
      return { status: 400, reason: 'Bad Request', code: 'structure', text: 'The request has both Content-Length and Transfer-Encoding (RFC 9112 §6.1): send one' };
    default:
      return { status: 400, reason: 'Bad Request', code: 'structure', text: `The request is not valid HTTP/1.1 (${err.code ?? 'parse error'}): ${err.message.split('\n')[0]}` };
  }
}

export function handleClientErrors(server: Server, logger: Logger, maxHeaderSize = NODE_MAX_HEADER_SIZE): void {
  server.on('clientError', (err: NodeJS.ErrnoException & { rawPacket?: Buffer }, socket: Socket) => {
    // Bytes already written on this connection belong to a response: a second status line would corrupt it. (A request
    // whose body fails to parse - a malformed chunk - has none yet: it is answered here; express's reply then finds
    // the connection closed.)
    if (err.code === 'ECONNRESET' || !socket.writable || socket.bytesWritten > 0) {
      socket.destroy();
      return;
    }
    const answer = answerFor(err, maxHeaderSize);
    logger.info({ status: answer.status, code: err.code }, 'client error before the request was read');
    const body = JSON.stringify({ resourceType: 'OperationOutcome', issue: [{ severity: 'error', code: answer.code, details: { text: answer.text } }] });
    const head = [`HTTP/1.1 ${answer.status} ${answer.reason}`, `Content-Type: ${FHIR_JSON}`, `Content-Length: ${Buffer.byteLength(body)}`, 'Connection: close'];
    socket.end(`${head.join('\r\n')}\r\n\r\n${body}`);
  });
}
