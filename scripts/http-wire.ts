// SPDX-License-Identifier: MIT
/**
 * @file The least HTTP/1.1 client a closed-loop benchmark needs: a request serialised once, written
 * on a keep-alive socket, and the answer read as a status line, headers and a Content-Length body.
 * Anything else (chunked transfer, a missing length, a malformed status line) rejects the round
 * trip and drops the socket, so the benchmark counts it as an error instead of mis-timing it. A
 * connection the server closes is reopened on the next round trip.
 */
import { connect, type Socket } from 'node:net';

const HEADER_END = Buffer.from('\r\n\r\n');

/** The whole request as bytes: request line, Host, Content-Length, the caller's headers, body. */
export function serializeRequest(url: URL, method: string, headers: Record<string, string>, body: Buffer): Buffer {
  const lines = [`${method} ${url.pathname}${url.search} HTTP/1.1`, `Host: ${url.host}`, `Content-Length: ${body.length}`];
  for (const [name, value] of Object.entries(headers)) {
    if (/[\r\n]/.test(name + value)) throw new RangeError(`header ${name} contains a line break`);
    if (name.toLowerCase() !== 'content-length' && name.toLowerCase() !== 'host') lines.push(`${name}: ${value}`);
  }
  return Buffer.concat([Buffer.from(`${lines.join('\r\n')}\r\n\r\n`, 'latin1'), body]);
}

/** One parsed response, or null while `data` holds less than a whole one. */
export function parseResponse(data: Buffer): { status: number; length: number; close: boolean } | null {
  const headEnd = data.indexOf(HEADER_END);
  if (headEnd < 0) return null;
  const head = data.toString('latin1', 0, headEnd);
  const statusLine = /^HTTP\/1\.[01] (\d{3})/.exec(head);
  if (statusLine === null) throw new Error(`malformed status line ${JSON.stringify(head.slice(0, 40))}`);
  if (/\r\ntransfer-encoding:/i.test(head)) throw new Error('chunked or encoded responses are not supported');
  const length = /\r\ncontent-length:[ \t]*(\d+)[ \t]*(?=\r\n|$)/i.exec(head);
  if (length === null) throw new Error('response without Content-Length');
  const total = headEnd + HEADER_END.length + Number(length[1]);
  if (data.length < total) return null;
  return { status: Number(statusLine[1]), length: total, close: /\r\nconnection:[ \t]*close/i.test(head) };
}

interface Waiter {
  resolve: (status: number) => void;
  reject: (err: Error) => void;
}

export class WireConnection {
  private socket: Socket | null = null;
  private buffered: Buffer = Buffer.alloc(0);
  private waiter: Waiter | null = null;

  constructor(private readonly url: URL) {}

  /** Writes `request` and resolves with the response's status once its whole body has arrived. */
  roundTrip(request: Buffer): Promise<number> {
    if (this.waiter !== null) return Promise.reject(new Error('a round trip is already in flight on this connection'));
    const socket = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.waiter = { resolve, reject };
      socket.write(request);
    });
  }

  close(): void {
    this.socket?.destroy();
    this.socket = null;
  }

  private open(): Socket {
    const socket = connect({ host: this.url.hostname, port: Number(this.url.port || 80), noDelay: true });
    this.buffered = Buffer.alloc(0);
    socket.on('data', (chunk: Buffer) => {
      this.onData(socket, chunk);
    });
    // Only the current socket's end fails the waiting round trip: a socket already replaced (closed
    // after a `Connection: close` answer) may report its close after the next request has started.
    const drop = (err?: Error): void => {
      if (this.socket !== socket) return;
      this.socket = null;
      this.settle(null, err ?? new Error('connection closed before the response ended'));
    };
    socket.on('error', drop);
    socket.on('close', () => {
      drop();
    });
    this.socket = socket;
    return socket;
  }

  private onData(socket: Socket, chunk: Buffer): void {
    this.buffered = this.buffered.length === 0 ? chunk : Buffer.concat([this.buffered, chunk]);
    let parsed;
    try {
      parsed = parseResponse(this.buffered);
    } catch (err) {
      this.retire(socket);
      this.settle(null, err as Error);
      return;
    }
    if (parsed === null) return;
    this.buffered = this.buffered.subarray(parsed.length);
    if (parsed.close) this.retire(socket);
    this.settle(parsed.status, null);
  }

  private retire(socket: Socket): void {
    if (this.socket === socket) this.socket = null;
    socket.destroy();
  }

  private settle(status: number | null, err: Error | null): void {
    const waiter = this.waiter;
    if (waiter === null) return;
    this.waiter = null;
    if (status !== null) waiter.resolve(status);
    else waiter.reject(err!);
  }
}
