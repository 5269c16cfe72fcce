/** A raw WebSocket client for hostile-client tests: it completes the handshake, then never reads again. */
import { connect, type Socket } from 'node:net';
import { randomBytes } from 'node:crypto';

/**
 * `socket` at once (to close or destroy it later); `opened` once the server
 * answered 101, after which nothing is read: the kernel buffers fill, then the server's.
 */
export function deafClient(port: number, protocol = 'neurox.v1.json'): { socket: Socket; opened: Promise<Socket> } {
  const socket = connect(port, '127.0.0.1', () =>
    socket.write(`GET / HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: ${randomBytes(16).toString('base64')}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${protocol}\r\n\r\n`));
  socket.on('error', () => undefined);
  const opened = new Promise<Socket>((resolve, reject) =>
    socket.once('data', (d) => {
      if (!String(d).startsWith('HTTP/1.1 101')) return reject(new Error(String(d).split('\r\n')[0]));
      socket.pause();
      resolve(socket);
    }));
  return { socket, opened };
}
