// The states and limits of a client connection, shared by its two halves (ClientLifecycle, ClientConnection).

export interface ClientLimits {
  /** Slowloris bound: a request head must arrive within this from its first byte (or from the connection's start). */
  headersTimeoutMs: number;
  /** Bound on receiving a whole request, body included. */
  requestTimeoutMs: number;
  /** Largest request head accepted, in bytes; larger gets 431. */
  maxHeaderSize: number;
  /** Idle keep-alive connections are closed after this. */
  keepAliveTimeoutMs: number;
}

/** Waiting for a request (a fresh connection, or keep-alive between requests). */
export const IDLE = 0;
/** Part of a request head has arrived. */
export const HEAD = 1;
/** A request is being handled (or the rest of its body discarded after an early response). */
export const ACTIVE = 2;
/** Handed to the WebSocket path once the current read is parsed. */
export const UPGRADING = 3;
/** Refused or finished: the socket is ending; anything more the client sends is read and dropped. */
export const CLOSING = 4;

/** How long a closing connection may keep sending before it is destroyed (nginx's lingering close). */
export const LINGER_MS = 2000;
/** How long a closing connection may take to read the end of its response (nginx's send_timeout). */
export const SEND_TIMEOUT_MS = 60_000;

/** A complete request head whose handling waits for the response before it (pipelining). */
export interface ParkedHead {
  major: number;
  minor: number;
  headers: string[];
  method: number;
  url: string;
  upgrade: boolean;
  keepAlive: boolean;
}
