// The HTTP/2 connection preface (RFC 9113 §3.4): how a plain port tells an h2c client (prior knowledge) from HTTP/1.1.

export const H2_PREFACE = 'PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n';

/** The first bytes read of a connection open the HTTP/2 preface (its request line is enough to tell). */
export function opensH2Preface(head: Buffer): boolean {
  return head.toString('latin1', 0, 16) === H2_PREFACE.slice(0, 16);
}
