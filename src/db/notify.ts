// PostgreSQL LISTEN/NOTIFY between the instances of the bot sharing one database: what one instance changes
// (a ban, a server's quotas) the others hear about at once and update their memory of it. Publishing is a
// plain `select pg_notify(...)` in the transaction that writes (delivered on commit); this file is the
// listening side.
import postgres from 'postgres';
import type { Logger } from '../log.ts';

export interface Notifications {
  /**
   * Calls `onMessage` with each payload sent on `channel`. `onListen` runs every time listening starts — the
   * first time and after each reconnection — so the subscriber can reload whatever it may have missed.
   */
  listen(channel: string, onMessage: (payload: string) => void, onListen: () => Promise<void> | void): Promise<void>;
  close(): Promise<void>;
}

interface Channel {
  onMessage: (payload: string) => void;
  onListen: () => Promise<void> | void;
}

/**
 * Listens on a connection of its own. postgres.js's own `listen()` tries to listen again once after the
 * connection drops and gives up if the database is not back yet; this one keeps trying (1 s doubling to 30 s).
 */
export function postgresNotifications(url: string, log: Logger): Notifications {
  const channels = new Map<string, Channel>();
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  let attempt = 0;
  const options = {
    max: 1,
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    onnotice: () => {},
    onnotify: (channel: string, payload: string) => {
      try {
        channels.get(channel)?.onMessage(payload);
      } catch (err) {
        log.error({ err, channel }, 'notification handler failed');
      }
    },
    onclose: () => {
      if (!stopped) schedule();
    },
  };
  const sql = postgres(url, options as unknown as postgres.Options<Record<string, never>>);

  const listenOn = async (name: string, channel: Channel) => {
    await sql.unsafe(`listen "${name.replace(/"/g, '""')}"`);
    await channel.onListen();
  };

  function schedule() {
    if (retry || stopped) return;
    const delay = Math.min(30_000, 1_000 * 2 ** attempt);
    retry = setTimeout(async () => {
      retry = undefined;
      try {
        for (const [name, channel] of channels) await listenOn(name, channel);
        attempt = 0;
        log.info({ channels: [...channels.keys()] }, 'listening for other instances again');
      } catch (err) {
        attempt++;
        log.warn({ err, retryInMs: Math.min(30_000, 1_000 * 2 ** attempt) }, 'could not listen for other instances; retrying');
        schedule();
      }
    }, delay);
    retry.unref();
  }

  return {
    async listen(name, onMessage, onListen) {
      const channel = { onMessage, onListen };
      channels.set(name, channel);
      await listenOn(name, channel);
    },
    async close() {
      stopped = true;
      clearTimeout(retry);
      await sql.end({ timeout: 2 });
    },
  };
}
