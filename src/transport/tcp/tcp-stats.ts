/** Counters of one {@link TcpTransport}, since it was created. */
export interface TcpTransportStats {
  /** Calls to `send`. */
  sent: number;
  /** Frames handed to sockets. */
  written: number;
  /**
   * Times a peer's queued frames were handed to its socket together: at most once per peer per
   * turn of the event loop while the socket keeps up, so `written / flushes` is frames per write.
   */
  flushes: number;
  /** Messages delivered to the handler. */
  received: number;
  /** Errors the handler threw (it must not throw). */
  handlerErrors: number;
  /** Outgoing messages lost before reaching a socket, by reason. */
  readonly dropped: {
    /** The peer's queue was full, so the oldest message made room. */
    queueOverflow: number;
    /** The message could not be encoded (a field out of range, or too large). */
    unencodable: number;
    /** Discovery did not know the peer's address; its queue was discarded. */
    noAddress: number;
    /** Sent before `start`, after `stop`, from the wrong id, or to itself. */
    notSendable: number;
    /** Still queued when the transport stopped. */
    stopped: number;
  };
  /** Inbound connections or messages refused, by reason. */
  readonly rejected: {
    /** Wrong cluster, wrong secret, bad TLS certificate, or a certificate naming someone else. */
    unauthenticated: number;
    /** A peer discovery does not know, or a dialer looking for another node. */
    unknownPeer: number;
    /** A malformed or late handshake. */
    invalidHandshake: number;
    /** Over `inboundConnectionsMax`. */
    tooManyConnections: number;
    /** An undecodable or misaddressed message from an authenticated peer. */
    invalidMessage: number;
  };
  /** Connection events. */
  readonly connections: {
    /** Outbound connections that completed the handshake. */
    opened: number;
    /** Inbound connections that completed the handshake. */
    accepted: number;
    /** Outbound attempts that failed or connections that broke. */
    failed: number;
    /** Outbound handshakes the peer refused. */
    refusedByPeer: number;
    /** Outbound connections closed because the peer stopped reading for `writeStallTimeoutMs`. */
    stalled: number;
  };
}

/** Fresh counters, all zero. */
export function newTcpTransportStats(): TcpTransportStats {
  return {
    sent: 0,
    written: 0,
    flushes: 0,
    received: 0,
    handlerErrors: 0,
    dropped: { queueOverflow: 0, unencodable: 0, noAddress: 0, notSendable: 0, stopped: 0 },
    rejected: {
      unauthenticated: 0,
      unknownPeer: 0,
      invalidHandshake: 0,
      tooManyConnections: 0,
      invalidMessage: 0,
    },
    connections: { opened: 0, accepted: 0, failed: 0, refusedByPeer: 0, stalled: 0 },
  };
}

/** A deep copy, so callers cannot change the live counters. */
export function copyTcpTransportStats(stats: TcpTransportStats): TcpTransportStats {
  return {
    ...stats,
    dropped: { ...stats.dropped },
    rejected: { ...stats.rejected },
    connections: { ...stats.connections },
  };
}
