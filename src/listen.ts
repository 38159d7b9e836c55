import type { Server } from 'node:http';
import { ListenError } from './errors.js';

/**
 * Binds one of the gateway's listeners; a failure names the listener and the config keys that move
 * it, since a bare `listen EADDRINUSE 127.0.0.1:8081` leaves the operator guessing which of the two it was.
 */
export function listen(server: Server, port: number, host: string, section: 'server' | 'admin'): Promise<void> {
  return new Promise((resolve, reject) => {
    const fail = (error: NodeJS.ErrnoException) => reject(listenError(error, `${host}:${port}`, section));
    server.once('error', fail);
    server.listen(port, host, () => {
      server.off('error', fail);
      resolve();
    });
  });
}

function listenError(error: NodeJS.ErrnoException, address: string, section: 'server' | 'admin') {
  const role = section === 'admin' ? 'admin listener' : 'ingest listener';
  const move =
    section === 'admin'
      ? 'set admin.port (or admin.host) in the config, or admin.enabled: false to run without the admin API'
      : 'set server.port (or server.host) in the config';
  const why =
    error.code === 'EADDRINUSE'
      ? 'the port is already in use (another gateway, or another program)'
      : error.code === 'EACCES'
        ? 'permission denied (ports below 1024 need privileges)'
        : error.code === 'EADDRNOTAVAIL'
          ? 'this machine has no such address'
          : error.message;
  return new ListenError(`the ${role} cannot listen on ${address}: ${why}; ${move}`, { cause: error });
}
