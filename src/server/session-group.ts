// Signing out ends the session's open WebSockets too, on every server process: each consumer of a
// signed-in user joins the channel-layer group of its session, and logout sends that group a
// `session.ended` message (through Redis when the layer is Redis). The group is named after a hash
// of the session id, never the id itself, since the id is the session's bearer secret.
import { createHash } from 'node:crypto';
import type { WebsocketConsumer } from '../channels/consumer/websocket-consumer.ts';
import type { ChannelLayer } from '../channels/layers/channel-layer.ts';
import type { Session } from '../channels/middleware/session.ts';

/** The close code a signed-out page's WebSockets get; the pages do not reconnect after it. */
export const SIGNED_OUT_CLOSE_CODE = 4001;

export function sessionGroup(sessionId: string): string {
  return `session.${createHash('sha256').update(sessionId).digest('base64url').slice(0, 32)}`;
}

/** Joins the consumer to its session's group (left with its other groups when it disconnects). */
export async function joinSessionGroup(consumer: WebsocketConsumer): Promise<void> {
  const session = consumer.scope.session as Session | undefined;
  if (session === undefined || consumer.channelLayer === null) return;
  const group = sessionGroup(session.id);
  consumer.groups.push(group);
  await consumer.channelLayer.groupAdd(group, consumer.channelName);
}

/** Tells every WebSocket of the session, on every process, that it ended. */
export async function endSessionSockets(layer: ChannelLayer, sessionId: string): Promise<void> {
  await layer.groupSend(sessionGroup(sessionId), { type: 'session.ended' });
}
