// The log tail consumer (/ws/tail/). A logged-in user gets the list of log files they may follow
// (ids and titles: a client never sees or sends a path), then `start` and `stop` one at a time.
// Lines come from the shared tail engine (one follower per file, whoever is watching) through a
// sink that respects the socket's backpressure: while the browser is behind, the engine queues a
// bounded number of lines for it and later says how many it skipped.
import { JsonWebsocketConsumer } from '../../channels/consumer/json-consumer.ts';
import type { TailEngine, TailItem, TailSink, TailViewer } from '../../tail/index.ts';
import { userOf, type ServerUser } from '../chat/chat-consumer.ts';
import type { EventLog } from '../event-log.ts';
import type { Metrics } from '../metrics.ts';
import { joinSessionGroup, SIGNED_OUT_CLOSE_CODE } from '../session-group.ts';

export interface TailDependencies {
  readonly engine: TailEngine;
  readonly metrics: Metrics;
  readonly log: EventLog;
}

/** What a batch of the engine's items becomes on the wire: lines together, notices in place. */
export function encodeItems(batch: readonly TailItem[]): string {
  return JSON.stringify({ type: 'items', items: batch });
}

export function tailConsumer(deps: TailDependencies): typeof JsonWebsocketConsumer {
  return class TailConsumer extends JsonWebsocketConsumer {
    user: ServerUser | undefined;
    viewer: TailViewer | null = null;

    override async connect(): Promise<void> {
      this.user = userOf(this.scope);
      if (this.user === undefined) {
        this.close();
        return;
      }
      await joinSessionGroup(this);
      this.accept();
      this.sendJson({ type: 'logs', logs: deps.engine.logs(this.user.username) });
    }

    override receiveJson(content: unknown): void {
      const request = content as { type?: unknown; log?: unknown } | null;
      if (request?.type === 'start') this.#start(request.log);
      else if (request?.type === 'stop') this.#stop(true);
      else
        this.sendJson({
          type: 'error',
          code: 'bad_request',
          message: 'send { "type": "start", "log": id } or { "type": "stop" }',
        });
    }

    override disconnect(): void {
      this.#stop(false);
    }

    /** The user signed out (in any tab, on any process). */
    sessionEnded(): void {
      this.close(SIGNED_OUT_CLOSE_CODE, 'signed out');
    }

    #start(logId: unknown): void {
      const user = this.user!.username;
      this.#stop(false);
      const entry = deps.engine.logs(user).find((log) => log.id === logId);
      if (entry === undefined) {
        // Unknown ids, ids of files not allowed to this user and anything path-like all look alike.
        deps.log.event(
          'tail.refused',
          { user, log: typeof logId === 'string' ? logId.slice(0, 100) : typeof logId },
          'warn',
        );
        this.sendJson({
          type: 'error',
          code: 'unknown_log',
          message: 'There is no such log file for you.',
          fatal: true,
        });
        return;
      }
      this.sendJson({ type: 'started', log: entry.id, title: entry.title });
      const sink: TailSink = {
        write: (batch) => this.send(encodeItems(batch)) === 'ok',
        onDrain: (listener) => this.onDrain(listener),
      };
      try {
        this.viewer = deps.engine.open(entry.id, {
          user,
          sink,
          onError: (error) => deps.log.event('tail.sink_error', { user, log: entry.id, error }, 'error'),
        });
      } catch (error) {
        deps.log.event('tail.unavailable', { user, log: entry.id, error }, 'error');
        this.sendJson({
          type: 'error',
          code: 'unavailable',
          message: 'This log file cannot be followed right now.',
          fatal: true,
        });
        return;
      }
      deps.metrics.increment('bufferevent_tail_starts_total');
      deps.log.event('tail.start', { user, log: entry.id });
    }

    #stop(tellClient: boolean): void {
      const viewer = this.viewer;
      if (viewer === null) {
        if (tellClient) this.sendJson({ type: 'stopped' });
        return;
      }
      this.viewer = null;
      viewer.stop();
      deps.log.event('tail.stop', { user: this.user?.username, log: viewer.logId });
      if (tellClient) this.sendJson({ type: 'stopped' });
    }
  };
}
