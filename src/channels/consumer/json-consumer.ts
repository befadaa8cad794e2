// JsonWebsocketConsumer: Channels' AsyncJsonWebsocketConsumer. Text messages are decoded as JSON
// and handed to `receiveJson`; `sendJson` encodes. A binary message or text that is not JSON is the
// client's mistake, not the server's: the connection is closed (1003 and 1007) and it is logged
// as a warning, the consumer's handlers never see it.
import { BuffereventError } from '../../errors.ts';
import type { SendResult } from '../../websocket/websocket.ts';
import { WebsocketConsumer } from './websocket-consumer.ts';

/** Closes the connection with `code`; thrown by `receive` for input the client got wrong. */
export class ClientProtocolError extends BuffereventError {
  readonly closeCode: number;
  constructor(message: string, code: string, closeCode: number) {
    super(message, code);
    this.name = 'ClientProtocolError';
    this.closeCode = closeCode;
  }
}

export class JsonWebsocketConsumer extends WebsocketConsumer {
  /** A decoded JSON message from the client. */
  receiveJson(content: unknown): unknown {
    void content;
    return undefined;
  }

  override receive(text: string | undefined, bytes: Buffer | undefined): unknown {
    if (text === undefined) {
      void bytes;
      throw new ClientProtocolError(
        'a JSON consumer received a binary message; send JSON as text',
        'ERR_CONSUMER_BINARY_MESSAGE',
        1003,
      );
    }
    let content: unknown;
    try {
      content = this.decodeJson(text);
    } catch (error) {
      throw new ClientProtocolError(
        `a JSON consumer received text that is not JSON: ${(error as Error).message}`,
        'ERR_CONSUMER_INVALID_JSON',
        1007,
      );
    }
    return this.receiveJson(content);
  }

  /** Sends `content` as a JSON text message; `close` (true or a code) closes after it. */
  sendJson(content: unknown, close?: boolean | number): SendResult {
    return this.send({ text: this.encodeJson(content), close });
  }

  /** Override for another encoding (dates, bigints). */
  decodeJson(text: string): unknown {
    return JSON.parse(text);
  }

  encodeJson(content: unknown): string {
    const text = JSON.stringify(content);
    if (text === undefined) {
      throw new BuffereventError(
        `sendJson(): ${typeof content} cannot be encoded as JSON`,
        'ERR_CONSUMER_INVALID_JSON',
      );
    }
    return text;
  }
}
