/**
 * The byte stream broke the protocol (or a size limit), so it can no longer be framed: the
 * connection that sent it is closed. Errors in a well-framed request are replies instead.
 */
export class RespProtocolError extends Error {
  override readonly name = 'RespProtocolError';

  constructor(message: string) {
    super(`Protocol error: ${message}`);
  }
}
